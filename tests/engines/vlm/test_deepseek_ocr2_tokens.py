"""DeepSeek-OCR 2's visual tokens: docpipe's prediction against transformers' own processor (a
second implementation beside vLLM's, which tests/vllm_real checks on the engine itself)."""

from __future__ import annotations

import pytest
from PIL import Image

pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

from tokenizers import Tokenizer, models, pre_tokenizers  # noqa: E402
from transformers import PreTrainedTokenizerFast  # noqa: E402

from docpipe.engines.vlm.modes import deepseek_visual_tokens  # noqa: E402
from docpipe.engines.vlm.profiles import DeepSeekOcr2Profile  # noqa: E402

IMAGE_ID = 1


@pytest.fixture(scope="module")
def processor():
    try:
        from transformers.models.deepseek_ocr2 import DeepseekOcr2Processor
        from transformers.models.deepseek_ocr2.image_processing_pil_deepseek_ocr2 import (
            DeepseekOcr2ImageProcessorPil,
        )
    except ImportError:
        pytest.skip("this transformers has no DeepSeek-OCR 2 (5.23 and later do)")
    # a tokenizer of four words is enough: only the count of <image> placeholders matters
    vocab = {"<unk>": 0, "<image>": IMAGE_ID, "Free": 2, "OCR.": 3}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk, unk_token="<unk>", additional_special_tokens=["<image>"]
    )
    return DeepseekOcr2Processor(image_processor=DeepseekOcr2ImageProcessorPil(), tokenizer=tok)


def image_tokens(processor, size: tuple[int, int]) -> int:
    out = processor(images=[Image.new("RGB", size, "white")], text="<image>\nFree OCR.")
    return sum(1 for t in out["input_ids"][0] if t == IMAGE_ID)


@pytest.mark.parametrize(
    "size",
    [(600, 700), (768, 768), (769, 500), (1224, 1584), (1584, 1224), (3000, 1000), (1000, 1000), (800, 3000)],
)
def test_prediction_matches_the_processor(processor, size):
    assert image_tokens(processor, size) == deepseek_visual_tokens(*size, version=2)


def test_the_images_docpipe_sends_get_the_tokens_it_plans(processor):
    prof = DeepSeekOcr2Profile()
    raster = Image.new("RGB", (1224, 1584), "white")  # a letter page at 144 dpi
    for mode in prof.modes.values():
        sent = prof.prepare_image(raster, mode)
        assert image_tokens(processor, sent.size) == mode.visual_tokens(*raster.size)
    assert prof.mode("global").visual_tokens(1224, 1584) == 257  # 16 x 16 queries + separator
    assert prof.mode("tiled").visual_tokens(1224, 1584) == 257 + 6 * 144
