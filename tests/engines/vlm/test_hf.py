"""The transformers backend with a tiny randomly initialised Qwen2-VL built offline: real processor
(chat template, Qwen2VL image processor, image-token expansion) and real `generate`. This proves the
plumbing, not quality: the model's words are random."""

from __future__ import annotations

import pymupdf
import pytest
from PIL import Image

torch = pytest.importorskip("torch")
tf = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from docpipe.engines.base import PageInput  # noqa: E402
from docpipe.engines.vlm import VlmEngine, VlmSettings  # noqa: E402
from docpipe.engines.vlm.backends.base import VlmRequest  # noqa: E402
from docpipe.engines.vlm.backends.hf_transformers import TransformersBackend  # noqa: E402

SPECIAL = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
]
WORDS = [
    "system",
    "user",
    "assistant",
    "Convert",
    "this",
    "document",
    "page",
    "to",
    "#",
    "Hello",
    "world",
    "-",
]
CHAT = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% else %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def tiny_qwen2_vl():
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from transformers.processing_utils import ProcessorMixin

    vocab = {w: i for i, w in enumerate([*SPECIAL, "<|video_pad|>", *WORDS, "[UNK]"])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece()
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIAL])
    fast = tf.PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token="[UNK]"
    )
    # the slow (PIL) image processor: there is no CPU torchvision here
    image_proc_cls = getattr(tf, "Qwen2VLImageProcessorPil", None) or tf.Qwen2VLImageProcessor
    ip = image_proc_cls(
        min_pixels=56 * 56, max_pixels=112 * 112, patch_size=14, merge_size=2, temporal_patch_size=2
    )

    class ImageOnlyQwen2VLProcessor(tf.Qwen2VLProcessor):
        """Qwen2VLProcessor without its video processor (which needs torchvision)."""

        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
            self.image_token, self.video_token = "<|image_pad|>", "<|video_pad|>"
            self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
            self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
            ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

    proc = ImageOnlyQwen2VLProcessor(image_processor=ip, tokenizer=fast, chat_template=CHAT)
    ids = {k: vocab[k] for k in ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>")}
    cfg = tf.Qwen2VLConfig(
        text_config=dict(
            vocab_size=len(vocab),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
            max_position_embeddings=512,
            rope_parameters={"rope_type": "default", "mrope_section": [2, 2, 4], "rope_theta": 10000.0},
            eos_token_id=vocab["<|im_end|>"],
            bos_token_id=None,
            pad_token_id=vocab["<|endoftext|>"],
        ),
        vision_config=dict(
            depth=1,
            embed_dim=32,
            hidden_size=32,
            num_heads=2,
            mlp_ratio=2,
            patch_size=14,
            spatial_merge_size=2,
            temporal_patch_size=2,
            in_channels=3,
        ),
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(0)
    model = tf.Qwen2VLForConditionalGeneration(cfg).eval()
    model.generation_config.eos_token_id = vocab["<|im_end|>"]
    model.generation_config.pad_token_id = vocab["<|endoftext|>"]
    return model, proc, vocab


@pytest.fixture(scope="module")
def tiny():
    return tiny_qwen2_vl()


def test_generate_through_real_processor(tiny):
    model, proc, vocab = tiny
    seen = {}
    real_generate = model.generate

    def spy(**inputs):
        seen.update(inputs)
        return real_generate(**inputs)

    model.generate = spy
    try:
        be = TransformersBackend(
            VlmSettings(backend="transformers", model="tiny"), model=model, processor=proc
        )
        img = Image.new("RGB", (200, 150), "white")
        r = be.generate_one(
            VlmRequest(prompt="Convert this document page", image=img, max_tokens=6, system="system")
        )
    finally:
        model.generate = real_generate
    # the image went through the Qwen2-VL image processor and was expanded into image tokens
    grid = seen["image_grid_thw"][0].tolist()
    n_image_tokens = int((seen["input_ids"][0] == vocab["<|image_pad|>"]).sum())
    assert n_image_tokens == grid[0] * grid[1] * grid[2] // 4 and n_image_tokens > 0
    assert seen["pixel_values"].shape[0] == grid[0] * grid[1] * grid[2]
    assert (
        r.completion_tokens == 6
        and r.finish_reason == "length"
        and r.prompt_tokens == seen["input_ids"].shape[1]
    )
    assert all(w in WORDS + SPECIAL + ["[UNK]", "<|video_pad|>"] for w in r.text.split())


def test_end_of_sequence_is_reported_as_stop(tiny):
    model, proc, vocab = tiny
    be = TransformersBackend(VlmSettings(backend="transformers", model="tiny"), model=model, processor=proc)
    saved = model.lm_head.weight.detach().clone()
    try:
        with torch.no_grad():  # every logit equal: greedy picks id 0, made the EOS here
            model.lm_head.weight.zero_()
        model.generation_config.eos_token_id = 0
        r = be.generate_one(VlmRequest(prompt="Convert", image=Image.new("RGB", (64, 64)), max_tokens=5))
    finally:
        with torch.no_grad():
            model.lm_head.weight.copy_(saved)
        model.generation_config.eos_token_id = vocab["<|im_end|>"]
    assert r.finish_reason == "stop" and r.completion_tokens == 1 and r.text == ""


def test_engine_on_a_pdf_page(tiny):
    model, proc, _ = tiny
    s = VlmSettings(
        backend="transformers", model="tiny-qwen", profile="generic", max_tokens=8, dpi=36, figure_pass=False
    )
    eng = VlmEngine(s, backend=TransformersBackend(s, model=model, processor=proc))
    doc = pymupdf.open()
    page = doc.new_page(width=300, height=200)
    page.insert_text((20, 40), "Hello world", fontsize=12)
    (raw,) = eng.process([PageInput(source_name="t.pdf", index=0, page=doc[0])])
    assert raw.vlm is not None and raw.vlm.model == "tiny-qwen" and raw.vlm.mode == "high"
    assert raw.status in ("ok", "fallback") and raw.timings["vlm"] > 0
    doc.close()


def test_missing_extra_message(monkeypatch):
    import builtins

    from docpipe.engines.vlm.backends.base import MissingExtra, require

    real_import = builtins.__import__

    def fake_import(name, *a, **kw):
        if name == "not_a_real_torch":
            raise ImportError(name)
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(MissingExtra, match=r"pip install 'docpipe\[hf\]'"):
        require("not_a_real_torch", "hf")
