"""The OCR models on both runtimes: `auto` picks OpenVINO only where the CPU computes in bfloat16,
both runtimes read rendered print the same, and OpenVINO's per-thread requests serve the batch
scheduler's concurrent documents."""

from __future__ import annotations

import threading

import numpy as np
import pymupdf
import pytest
from pydantic import ValidationError

pytest.importorskip("rapidocr")
pytest.importorskip("onnxruntime")
pytest.importorskip("openvino")

from docpipe.config import load_config  # noqa: E402
from docpipe.engines import ocr_runtime  # noqa: E402
from docpipe.engines.ocr import OcrEngine, PaddleOcrModels, crop_line  # noqa: E402

LINES = ["Invoice 2024-0317", "Total due: 1,284.50 EUR", "Plant height (cm)", "Page 7 of 12"]


def rendered_lines() -> np.ndarray:
    doc = pymupdf.open()
    page = doc.new_page(width=420, height=200)
    for i, text in enumerate(LINES):
        page.insert_text((30 + 20 * i, 40 + 40 * i), text, fontsize=12, fontname="helv")
    pix = page.get_pixmap(dpi=200, colorspace=pymupdf.csGRAY, alpha=False)
    return np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)[:, : pix.width].copy()


@pytest.fixture(scope="module")
def both() -> dict[str, PaddleOcrModels]:
    return {rt: PaddleOcrModels(threads=2, runtime=rt) for rt in ("onnxruntime", "openvino")}


def test_auto_means_openvino_only_where_the_cpu_computes_bfloat16(monkeypatch) -> None:
    monkeypatch.setattr(ocr_runtime, "cpu_computes_bf16", lambda: True)
    assert ocr_runtime.resolve("auto") == "openvino"
    monkeypatch.setattr(ocr_runtime, "cpu_computes_bf16", lambda: False)
    assert ocr_runtime.resolve("auto") == "onnxruntime"
    assert OcrEngine(runtime="auto").runtime == "onnxruntime"
    assert ocr_runtime.resolve("openvino") == "openvino"  # asked for by name: no probing
    with pytest.raises(ValueError, match="unknown OCR runtime 'tensorrt'"):
        ocr_runtime.resolve("tensorrt")


def test_config_names_the_runtime() -> None:
    assert load_config(overrides={"ocr": {"runtime": "onnxruntime"}}).ocr.runtime == "onnxruntime"
    with pytest.raises(ValidationError):
        load_config(overrides={"ocr": {"runtime": "tensorrt"}})


def test_both_runtimes_load_the_same_character_table(both) -> None:
    a, b = both["onnxruntime"].charset, both["openvino"].charset
    assert len(a) == len(b) > 6000
    assert list(a) == list(b)


def test_both_runtimes_find_and_read_the_same_lines(both) -> None:
    gray = rendered_lines()
    read = {}
    for rt, models in both.items():
        quads = models.detect(gray)
        assert len(quads) == len(LINES), rt
        read[rt] = [r.text.strip() for r in models.recognise([crop_line(gray, q) for q in quads])]
    assert read["onnxruntime"] == LINES
    assert read["openvino"] == LINES


def test_openvino_serves_threads_at_once(both) -> None:
    """The batch scheduler converts documents in threads of one process: each thread gets its own
    infer request, and concurrent calls give what one call gives."""
    models = both["openvino"]
    gray = rendered_lines()
    crops = [crop_line(gray, q) for q in models.detect(gray)]
    alone = [r.text for r in models.recognise(crops)]
    got: list[list[str]] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(3):
                got.append([r.text for r in models.recognise(crops)])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    workers = [threading.Thread(target=read) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    assert got == [alone] * 9


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_run_all_gives_each_batch_its_own_output_in_order(both, runtime) -> None:
    """Recognition hands a stream of crops to `run_all`, which may run several at once: every output
    must be the one `run` gives for that crop, in the order the crops came."""
    models = both[runtime]
    rng = np.random.default_rng(7)
    widths = [320, 384, 1024, 320, 640, 448]
    batches = [rng.uniform(-1, 1, size=(1, 3, 48, w)).astype(np.float32) for w in widths]
    drawn: list[int] = []

    def lazily():
        for i, b in enumerate(batches):
            drawn.append(i)
            yield b

    outputs = list(models.rec.run_all(lazily()))
    assert drawn == list(range(len(batches)))
    assert [o.shape[1] for o in outputs] == [models.rec.run(b).shape[1] for b in batches]
    for b, o in zip(batches, outputs, strict=True):
        np.testing.assert_array_equal(o, models.rec.run(b))


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_a_forked_worker_reads_with_its_own_models(runtime) -> None:
    """Batch workers are forked from a parent that may have read pages already: the child must not
    use the parent's loaded models (an inherited OpenVINO request waits forever for threads that
    were not forked), nor free them (onnxruntime's destructor waits for those threads), but load
    its own, and read the same text."""
    import multiprocessing

    engine = OcrEngine(threads=2, runtime=runtime)
    doc = pymupdf.open()
    page = doc.new_page(width=420, height=200)
    page.insert_text((40, 80), LINES[1], fontsize=14, fontname="helv")
    parent = [line.text for line in engine.process_page(page).lines]
    assert parent == [LINES[1]]

    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()

    def child() -> None:
        results.put([line.text for line in engine.process_page(page).lines])

    proc = ctx.Process(target=child)
    proc.start()
    proc.join(120)
    hung = proc.is_alive()
    if hung:
        proc.kill()
        proc.join()
    assert not hung, "the forked child hung in OCR"
    assert proc.exitcode == 0
    assert results.get(timeout=5) == parent


def test_openvino_keeps_compiled_models_for_the_next_process(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DOCPIPE_CACHE_DIR", str(tmp_path))
    assert ocr_runtime.compiled_cache() == tmp_path / "openvino"
    first = PaddleOcrModels(threads=1, runtime="openvino")
    blobs = sorted((tmp_path / "openvino").glob("*.blob"))
    assert len(blobs) == 3  # detector, recognizer, orientation classifier
    again = PaddleOcrModels(threads=1, runtime="openvino")  # compiled models read back
    crop = crop_line(rendered_lines(), np.array([[20, 40], [420, 40], [420, 110], [20, 110]], np.float32))
    assert first.recognise([crop])[0].text == again.recognise([crop])[0].text != ""


def test_the_compiled_model_cache_can_be_turned_off_or_unwritable(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DOCPIPE_CACHE_DIR", "off")
    assert ocr_runtime.compiled_cache() is None
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("DOCPIPE_CACHE_DIR", str(blocked))
    assert ocr_runtime.compiled_cache() is None  # models still load, compiled each time
    monkeypatch.delenv("DOCPIPE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ocr_runtime.compiled_cache() == tmp_path / "xdg" / "docpipe" / "openvino"
