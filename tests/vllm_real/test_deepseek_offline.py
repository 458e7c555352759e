"""DeepSeek-OCR through docpipe's VllmBackend (offline vllm.LLM): what the engine decides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pages import small_pdf
from realvllm import (
    DEEPSEEK_KWARGS,
    DEEPSEEK_SIZES,
    ENGINE_KWARGS,
    GenerateSpy,
    offline_prompt_ids,
    page_image,
    repeated_ngrams,
    shutdown_llm,
    vllm_deepseek_tokens,
)

from docpipe.engines.vlm.backends import VlmRequest
from docpipe.engines.vlm.settings import VlmSettings

PROMPT = "<image>\n<|grounding|>Convert the document to markdown."


@pytest.fixture(scope="module")
def ds(tiny_models: dict[str, Path]) -> Any:
    """docpipe's VllmBackend on the tiny DeepSeek-OCR; its LLM is built by the backend (recipe included)."""
    from docpipe.engines.vlm.backends.vllm_offline import VllmBackend

    settings = VlmSettings(
        model=str(tiny_models["deepseek-ocr-tiny"]),
        backend="vllm",
        max_tokens=16,
        vllm_kwargs={**ENGINE_KWARGS, **DEEPSEEK_KWARGS},
    )
    backend = VllmBackend(settings)
    _ = backend.llm  # start the engine here, not inside the first test
    yield backend
    shutdown_llm(backend._llm)
    backend._llm = None


def image_id(backend: Any) -> int:
    return backend.llm.get_tokenizer().convert_tokens_to_ids("<image>")


@pytest.mark.parametrize(("width", "height"), DEEPSEEK_SIZES)
def test_engine_counts_visual_tokens_by_vllm_rule(ds: Any, width: int, height: int) -> None:
    """The placeholder tokens vLLM builds for one image (its processor, no model run) follow vLLM's
    fixed Gundam constants: 273 for <= 640 px, plus (10 * cols + 1) * 10 * rows for 2..6 tiles."""
    ids = offline_prompt_ids(ds.llm, PROMPT, page_image(width, height))
    counted = ids.count(image_id(ds))
    print(
        f"deepseek-ocr offline {width}x{height}: engine {counted}, rule {vllm_deepseek_tokens(width, height)}"
    )
    assert counted == vllm_deepseek_tokens(width, height)


@pytest.mark.parametrize(("width", "height"), DEEPSEEK_SIZES)
def test_docpipe_predicts_the_engines_visual_tokens(ds: Any, width: int, height: int) -> None:
    from docpipe.engines.vlm import modes

    predict = getattr(modes, "deepseek_visual_tokens", None)
    assert predict is not None, "docpipe.engines.vlm.modes.deepseek_visual_tokens(w, h, version) is missing"
    counted = offline_prompt_ids(ds.llm, PROMPT, page_image(width, height)).count(image_id(ds))
    assert predict(width, height, version=1) == counted


def test_ngram_no_repeat_processor_is_active(ds: Any) -> None:
    """Greedy decoding of random weights loops at once; the model's n-gram processor (registered by the
    backend, fed by SamplingParams.extra_args) must forbid any repeated 3-gram in the window."""
    image = page_image(640, 480)
    plain = VlmRequest(prompt="", image=image, max_tokens=16, raw_prompt=PROMPT, skip_special_tokens=False)
    guarded = VlmRequest(
        prompt="",
        image=image,
        max_tokens=16,
        raw_prompt=PROMPT,
        skip_special_tokens=False,
        sampling_extra={"ngram_size": 3, "window_size": 64},
    )
    tokens = []
    for req in (plain, guarded):  # one at a time: outputs in a known order
        with GenerateSpy(ds.llm) as spy:
            (result,) = ds.generate_batch([req])
        assert not isinstance(result, BaseException), f"{type(result).__name__}: {result}"
        tokens.append(list(spy.outputs[-1].outputs[0].token_ids))
    loose, strict = tokens
    print(f"deepseek-ocr offline greedy: {loose}\n  with ngram_size=3: {strict}")
    assert len(loose) == len(strict) == 16
    assert repeated_ngrams(loose, 3), "random weights should loop without the processor (test precondition)"
    assert not repeated_ngrams(strict, 3)


def test_engine_pages_are_accepted_and_record_the_engines_tokens(ds: Any, tmp_path: Path) -> None:
    """A page through docpipe's VlmEngine (mode auto): the engine takes the request, and the page records
    the visual tokens the engine counted. With random weights the text is noise: the page may fall back
    as unparsable, but never for an engine error. Last in the module: a request the engine rejects
    may take the engine down with it."""
    import pymupdf

    from docpipe.engines.base import PageInput
    from docpipe.engines.vlm.engine import VlmEngine

    doc = pymupdf.open(small_pdf(tmp_path / "small.pdf"))
    engine = VlmEngine(ds.settings.model_copy(update={"figure_pass": False}), backend=ds)
    with GenerateSpy(ds.llm) as spy:
        (raw,) = engine.process([PageInput(source_name="small.pdf", index=0, page=doc[0])])
    errors = raw.error or ""
    assert "Attempted to assign" not in errors and raw.status != "failed", f"{raw.status}: {errors}"
    assert raw.status == "ok" or errors.startswith("unparsable model output"), errors
    counted = spy.outputs[-1].prompt_token_ids.count(image_id(ds))
    recorded = raw.vlm.visual_tokens if raw.vlm else None
    assert recorded == counted, f"page records {recorded} visual tokens, the engine counted {counted}"
