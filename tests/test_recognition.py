"""Recognition on the production path: routing with the configured engine and --force-ocr, one
process(batch) per engine and window, the fallback rule, and the VLM's figure crops reaching the
image stage."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from docpipe import recognition
from docpipe.config import load_config
from docpipe.engines.router import RouteDecision
from docpipe.model import Block, BlockType, FigureData, PageStatus
from docpipe.model.raw import Line, RawPage, Span
from docpipe.pipeline import convert_file
from docpipe.recognition import Engines, Registered, recognise_window

PNG = b"\x89PNG\r\n\x1a\n-the-engine's-own-crop"


class FakeEngine:
    """Records each batch; fails the pages listed in `fail`, or raises on any batch."""

    fallback = False

    def __init__(self, name: str, fail: frozenset[int] = frozenset(), raises: bool = False) -> None:
        self.name, self.fail, self.raises = name, fail, raises
        self.batches: list[list[int]] = []

    def process(self, pages):
        self.batches.append([p.index for p in pages])
        if self.raises:
            raise RuntimeError("backend down")
        out = []
        for p in pages:
            raw = RawPage.for_input(p, self.name, timings={"work": 0.25})
            if p.index in self.fail:
                raw.status, raw.error = PageStatus.failed, "looped"
            out.append(raw)
        return out


class FakeVlm(FakeEngine):
    fallback = True


@pytest.fixture
def fakes(monkeypatch):
    """The registry with fakes for every engine: a VLM that fails page 1, CPU engines that work."""
    made = {
        "vlm": FakeVlm("vlm", fail=frozenset({1})),
        "ocr": FakeEngine("ocr"),
        "textlayer": FakeEngine("textlayer"),
    }
    registry = {name: Registered(lambda e=e: type(e), lambda cls, c, t, e=e: e) for name, e in made.items()}
    monkeypatch.setattr(recognition, "REGISTRY", registry)
    return made


@pytest.fixture(scope="module")
def three_pages(tmp_path_factory) -> Path:
    doc = pymupdf.open()
    for i in range(3):
        doc.new_page(width=300, height=400).insert_text((40, 60), f"text layer of page {i}", fontsize=11)
    path = tmp_path_factory.mktemp("rec") / "three.pdf"
    doc.save(path)
    return path


def recognise(path: Path, **convert) -> list[RawPage]:
    config = load_config(overrides={"convert": convert})
    with pymupdf.open(path) as doc:
        return recognise_window(Engines(config), doc, path.name, range(doc.page_count))


def test_vlm_pages_go_out_in_one_batch_and_a_failed_page_falls_back_to_the_text_layer(fakes, three_pages):
    raws = recognise(three_pages, engine="vlm")
    assert fakes["vlm"].batches == [[0, 1, 2]]
    assert fakes["textlayer"].batches == [[1]] and fakes["ocr"].batches == []
    assert [r.engine for r in raws] == ["vlm", "textlayer", "vlm"]
    assert [r.status for r in raws] == [PageStatus.ok, PageStatus.fallback, PageStatus.ok]
    assert raws[1].error == "vlm failed (looped); read with textlayer"
    assert raws[1].route_reason == "requested (--engine vlm)"
    # each engine's own stages sum to its `engine` seconds; the fallback page pays for both engines
    assert raws[0].timings["engine"] == 0.25 and raws[1].timings["engine"] == 0.5
    assert all("route" in r.timings for r in raws)


def test_vlm_with_force_ocr_keeps_the_vlm_and_falls_back_to_ocr(fakes, three_pages):
    raws = recognise(three_pages, engine="vlm", force_ocr=True)
    assert fakes["vlm"].batches == [[0, 1, 2]]
    assert fakes["ocr"].batches == [[1]] and fakes["textlayer"].batches == []
    assert raws[1].engine == "ocr" and raws[1].error.endswith("read with ocr")


def test_force_ocr_sends_cpu_pages_to_ocr(fakes, three_pages):
    for engine in ("auto", "textlayer"):
        raws = recognise(three_pages, engine=engine, force_ocr=True)
        assert [r.route_reason for r in raws] == ["forced (--force-ocr)"] * 3
    assert fakes["ocr"].batches == [[0, 1, 2], [0, 1, 2]] and fakes["textlayer"].batches == []


def test_cpu_engines_have_no_fallback(fakes, three_pages):
    fakes["textlayer"].fail = frozenset({0})
    raws = recognise(three_pages)
    assert raws[0].status is PageStatus.failed and raws[0].engine == "textlayer"
    assert fakes["ocr"].batches == []


def test_an_engine_that_raises_fails_its_pages_and_they_fall_back(fakes, three_pages):
    fakes["vlm"].raises = True
    raws = recognise(three_pages, engine="vlm")
    assert [r.status for r in raws] == [PageStatus.fallback] * 3
    assert raws[0].error == "vlm failed (RuntimeError: backend down); read with textlayer"


def test_an_engine_that_cannot_be_built_fails_its_pages_and_they_fall_back(fakes, monkeypatch, three_pages):
    def bad_setting(cls, config, threads):
        raise ValueError("unknown mode 'ultra'")

    monkeypatch.setitem(recognition.REGISTRY, "vlm", Registered(lambda: FakeVlm, bad_setting))
    raws = recognise(three_pages, engine="vlm")
    assert [r.engine for r in raws] == ["textlayer"] * 3
    assert raws[2].error == "vlm failed (ValueError: unknown mode 'ultra'); read with textlayer"


def test_unknown_engine_is_refused(three_pages):
    with pytest.raises(ValueError, match="unknown engine 'nope'"):
        Engines(load_config()).get("nope")


class CroppingVlm(FakeVlm):
    """Types its own blocks, as a VLM does, with a figure crop of its own."""

    def process(self, pages):
        out = []
        for p in pages:
            raw = RawPage.for_input(p, self.name)
            raw.blocks = [
                Block(
                    id=f"p{p.index}-b0", type=BlockType.figure, bbox=(10, 10, 100, 100), figure=FigureData()
                )
            ]
            raw.figure_images[f"p{p.index}-b0"] = PNG
            out.append(raw)
        return out


def test_the_engines_figure_crops_are_the_figure_images(monkeypatch, three_pages):
    registry = {"vlm": Registered(lambda: CroppingVlm, lambda cls, c, t: cls("vlm"))}
    monkeypatch.setattr(recognition, "REGISTRY", registry)
    config = load_config(overrides={"convert": {"engine": "vlm"}})
    result = convert_file(three_pages, config)
    assert {k: (v.data, v.ext) for k, v in result.images.items()} == {
        f"p{i}-b0": (PNG, "png") for i in range(3)
    }
    # the engine typed its figures: the CPU figure pass leaves them alone
    assert all(p.blocks[0].figure.kind is None for p in result.document.pages)


class ReadingOcr(FakeEngine):
    """OCR that reads a line on the pages listed in `reads`, nothing on the others."""

    def __init__(self, reads: frozenset[int]) -> None:
        super().__init__("ocr")
        self.reads = reads

    def process(self, pages):
        out = super().process(pages)
        for raw in out:
            if raw.index in self.reads:
                box = (40.0, 50.0, 200.0, 62.0)
                raw.lines = [Line(spans=[Span(text="text layer of page", bbox=box, size=11.0)], bbox=box)]
        return out


def test_ocr_that_reads_nothing_of_a_doubtful_text_layer_falls_back_to_it(fakes, monkeypatch, three_pages):
    """The router sent every page to OCR (a text layer it doubted); OCR read page 1 and nothing of
    pages 0 and 2, whose text layers hold words: those two are read from the text layer instead."""
    fakes["ocr"] = ReadingOcr(frozenset({1}))
    registry = {name: Registered(lambda e=e: type(e), lambda cls, c, t, e=e: e) for name, e in fakes.items()}
    monkeypatch.setattr(recognition, "REGISTRY", registry)
    monkeypatch.setattr(recognition, "decide_route", lambda *a: RouteDecision("ocr", "garbage text layer"))
    raws = recognise(three_pages)
    assert fakes["ocr"].batches == [[0, 1, 2]] and fakes["textlayer"].batches == [[0, 2]]
    assert [r.engine for r in raws] == ["textlayer", "ocr", "textlayer"]
    assert [r.status for r in raws] == [PageStatus.fallback, PageStatus.ok, PageStatus.fallback]
    assert "OCR read 0 letters and digits" in raws[0].error and raws[0].route_reason == "garbage text layer"
    # with OCR forced, OCR's reading stands
    fakes["textlayer"].batches.clear()
    raws = recognise(three_pages, force_ocr=True)
    assert fakes["textlayer"].batches == [] and [r.engine for r in raws] == ["ocr"] * 3
