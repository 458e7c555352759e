"""DeepSeek-OCR 2 (tiny language model, full-size vision tower) through docpipe's VllmBackend, offline:
768 px tiles of 144 tokens and a 1024 px view of 256 (+1 separator); no newline tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from realvllm import (
    DEEPSEEK_KWARGS,
    ENGINE_KWARGS,
    offline_prompt_ids,
    page_image,
    shutdown_llm,
    vllm_deepseek_tokens,
)

from docpipe.engines.vlm.profiles import profile_for
from docpipe.engines.vlm.settings import VlmSettings

PROMPT = "<image>\nFree OCR."
#: one global view (<= 768 px), then 2, 3, 4 and 6 tiles
SIZES = [(768, 600), (1536, 768), (2304, 768), (1536, 1536), (1000, 1400)]


@pytest.fixture(scope="module")
def ds2(tiny_models: dict[str, Path]) -> Any:
    from docpipe.engines.vlm.backends.vllm_offline import VllmBackend

    settings = VlmSettings(
        model=str(tiny_models["deepseek-ocr2-tiny"]),
        backend="vllm",
        max_tokens=8,
        vllm_kwargs={**ENGINE_KWARGS, **DEEPSEEK_KWARGS},
    )
    backend = VllmBackend(settings)
    _ = backend.llm
    yield backend
    shutdown_llm(backend._llm)
    backend._llm = None


def counted(backend: Any, width: int, height: int) -> int:
    image_id = backend.llm.get_tokenizer().convert_tokens_to_ids("<image>")
    return offline_prompt_ids(backend.llm, PROMPT, page_image(width, height)).count(image_id)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_engine_counts_visual_tokens_by_vllm_rule(ds2: Any, width: int, height: int) -> None:
    n = counted(ds2, width, height)
    print(
        f"deepseek-ocr2 offline {width}x{height}: engine {n}, rule {vllm_deepseek_tokens(width, height, 2)}"
    )
    assert n == vllm_deepseek_tokens(width, height, version=2)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_docpipe_predicts_the_engines_visual_tokens(ds2: Any, width: int, height: int) -> None:
    from docpipe.engines.vlm import modes

    predict = getattr(modes, "deepseek_visual_tokens", None)
    assert predict is not None, "docpipe.engines.vlm.modes.deepseek_visual_tokens(w, h, version) is missing"
    assert predict(width, height, version=2) == counted(ds2, width, height)


def test_profile_page_request_is_accepted(ds2: Any) -> None:
    """The page request docpipe's profile for this model builds (default mode) for a 1000 x 700 page:
    the engine takes it (2 tiles of 768 px) and counts the tokens vLLM's rule gives."""
    profile = profile_for(ds2.settings.model, ds2.settings.profile)
    mode = profile.mode(profile.default_mode)
    req = profile.page_request(profile.prepare_image(page_image(1000, 700), mode), mode, ds2.settings)
    req.max_tokens = 4
    (result,) = ds2.generate_batch([req])
    assert not isinstance(result, BaseException), f"{type(result).__name__}: {result}"
    ids = getattr(result, "prompt_token_ids", None)
    assert ids, "VlmResponse carries no prompt_token_ids (offline: RequestOutput.prompt_token_ids)"
    image_id = ds2.llm.get_tokenizer().convert_tokens_to_ids("<image>")
    assert ids.count(image_id) == vllm_deepseek_tokens(*req.image.size, version=2)
