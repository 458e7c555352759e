"""Write tiny vision-language model folders that the real vLLM loads with random weights.

    python scripts/make_tiny_vlms.py OUTDIR

Each folder holds what vLLM reads before the weights (config.json, generation_config.json, processor
configs, a tokenizer) and no weights at all: the real-engine tier (tests/vllm_real) starts vLLM with
`load_format="dummy"`, which fills the parameters with random values. Nothing is downloaded.

- `qwen2-vl-tiny/`: Qwen2-VL, full-size image processor (14 px patches, 2x2 merge), a 1-layer
  language model of width 128 and a 1-block vision tower of width 64.
- `deepseek-ocr-tiny/`: DeepSeek-OCR. vLLM hard-codes its vision tower (SAM-B + CLIP-L) at full size;
  only the language model (DeepSeek-V2 with plain attention, dense layers) and the projector shrink.
- `deepseek-ocr2-tiny/`: DeepSeek-OCR 2, the same shrinking (its vision tower is fixed too).

The tokenizer is a byte-level BPE built here, deterministically, from a fixed alphabet and merge list,
plus each model's special tokens; its size equals the model's vocabulary, so any token id a random
model emits decodes. The folder names carry the family ("qwen2-vl", "deepseek-ocr") because docpipe
picks its profile from the model name.
"""

from __future__ import annotations

import json
import string
import sys
from pathlib import Path
from typing import Any

VOCAB_SIZE = 2048

#: special tokens, in id order after the BPE vocabulary; (text, special)
QWEN_TOKENS = [
    ("<|endoftext|>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True),
    ("<|box_start|>", True),
    ("<|box_end|>", True),
    ("<|quad_start|>", True),
    ("<|quad_end|>", True),
    ("<|vision_start|>", True),
    ("<|vision_end|>", True),
    ("<|vision_pad|>", True),
    ("<|image_pad|>", True),
    ("<|video_pad|>", True),
]
DEEPSEEK_TOKENS = [
    ("<｜begin▁of▁sentence｜>", True),
    ("<｜end▁of▁sentence｜>", True),
    ("<｜▁pad▁｜>", True),
    ("<image>", True),
    ("<|grounding|>", True),
    ("<|ref|>", True),
    ("<|/ref|>", True),
    ("<|det|>", True),
    ("<|/det|>", True),
    ("<td>", False),
    ("</td>", False),
]

# Qwen2-VL's chat format (ChatML with a vision span per image), written for this tiny model.
QWEN_CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if loop.first and message['role'] != 'system' -%}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif -%}"
    "{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['content'] is string -%}{{ message['content'] }}"
    "{%- else -%}{%- for part in message['content'] -%}"
    "{%- if part['type'] in ('image', 'image_url') or 'image' in part -%}"
    "{{ '<|vision_start|><|image_pad|><|vision_end|>' }}"
    "{%- elif part['type'] == 'text' -%}{{ part['text'] }}"
    "{%- endif -%}{%- endfor -%}{%- endif -%}"
    "{{ '<|im_end|>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)


def _byte_alphabet() -> list[str]:
    """The 256 printable stand-ins of byte-level BPE (GPT-2's mapping), in byte order."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def build_tokenizer(specials: list[tuple[str, bool]], vocab_size: int) -> Any:
    """A byte-level BPE of `vocab_size` tokens: the 256 byte symbols, merges of pairs of letters, digits
    and the space marker in a fixed order, then `specials` (added tokens, ids in the order listed)."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    vocab = {c: i for i, c in enumerate(_byte_alphabet())}
    pieces = ["Ġ", *string.ascii_lowercase, *string.ascii_uppercase, *string.digits]
    merges: list[tuple[str, str]] = []
    budget = vocab_size - len(specials) - len(vocab)
    pairs = ((a, b) for a in pieces for b in pieces[1:])  # no merge ends in a space marker
    for a, b in pairs:
        if len(merges) == budget:
            break
        merges.append((a, b))
        vocab[a + b] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    for text, special in specials:  # one at a time: ids follow the listed order
        token = AddedToken(text, special=special, normalized=False)
        (tok.add_special_tokens if special else tok.add_tokens)([token])
    assert tok.get_vocab_size(with_added_tokens=True) == vocab_size, "merge list too short"
    return tok


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def _write_tokenizer(
    folder: Path, specials: list[tuple[str, bool]], config: dict[str, Any]
) -> dict[str, int]:
    tok = build_tokenizer(specials, VOCAB_SIZE)
    tok.save(str(folder / "tokenizer.json"))
    ids = {t: tok.token_to_id(t) for t, _ in specials}
    added = {
        str(ids[t]): {
            "content": t,
            "lstrip": False,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
            "special": s,
        }
        for t, s in specials
    }
    _write_json(folder / "tokenizer_config.json", {"added_tokens_decoder": added, **config})
    return ids


def make_qwen2_vl(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ids = _write_tokenizer(
        folder,
        QWEN_TOKENS,
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "eos_token": "<|im_end|>",
            "pad_token": "<|endoftext|>",
            "bos_token": None,
            "model_max_length": 4096,
            "chat_template": QWEN_CHAT_TEMPLATE,
        },
    )
    text = {
        "vocab_size": VOCAB_SIZE,
        "hidden_size": 128,
        "intermediate_size": 256,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,  # head_dim 64
        "num_key_value_heads": 1,
        "max_position_embeddings": 4096,
        "rms_norm_eps": 1e-6,
        "hidden_act": "silu",
        # M-RoPE: temporal/height/width sections of head_dim / 2
        "rope_parameters": {"rope_type": "default", "mrope_section": [8, 12, 12], "rope_theta": 1000000.0},
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "tie_word_embeddings": False,
    }
    config = {
        "architectures": ["Qwen2VLForConditionalGeneration"],
        "model_type": "qwen2_vl",
        "text_config": {"model_type": "qwen2_vl_text", **text},
        "vision_config": {
            "model_type": "qwen2_vl",
            "depth": 1,
            "embed_dim": 64,
            "hidden_size": 128,  # the projector's output: the language model's width
            "hidden_act": "quick_gelu",
            "mlp_ratio": 2,
            "num_heads": 2,
            "in_channels": 3,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
        },
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "vision_end_token_id": ids["<|vision_end|>"],
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "vocab_size": VOCAB_SIZE,
    }
    _write_json(folder / "config.json", config)
    _write_json(
        folder / "generation_config.json",
        {"bos_token_id": text["bos_token_id"], "eos_token_id": [text["eos_token_id"]], "do_sample": False},
    )
    # Qwen2-VL's own pixel bounds (min 4 tokens' worth, max 16384 tokens' worth), so an image docpipe
    # already snapped to 28 px multiples inside its budget is not resized again
    image_processor = {
        "image_processor_type": "Qwen2VLImageProcessor",
        "processor_class": "Qwen2VLProcessor",
        "do_resize": True,
        "do_rescale": True,
        "do_normalize": True,
        "do_convert_rgb": True,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "rescale_factor": 0.00392156862745098,
        "min_pixels": 3136,
        "max_pixels": 12845056,
        "patch_size": 14,
        "merge_size": 2,
        "temporal_patch_size": 2,
        "resample": 3,
    }
    _write_json(folder / "preprocessor_config.json", image_processor)
    (folder / "chat_template.jinja").write_text(QWEN_CHAT_TEMPLATE, encoding="utf-8")


def _deepseek_language(ids: dict[str, int], hidden: int, layers: int) -> dict[str, Any]:
    return {
        "architectures": ["DeepseekV2ForCausalLM"],
        "model_type": "deepseek_v2",
        "vocab_size": VOCAB_SIZE,
        "hidden_size": hidden,
        "intermediate_size": 2 * hidden,
        "moe_intermediate_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": 2,  # head_dim 64
        "num_key_value_heads": 2,
        # plain multi-head attention (no MLA), as DeepSeek-OCR's 3B decoder
        "kv_lora_rank": None,
        "q_lora_rank": None,
        "qk_nope_head_dim": 0,
        "qk_rope_head_dim": 0,
        "v_head_dim": 0,
        "use_mla": False,
        # the MoE fields must be integers even unused; first_k_dense_replace == layers: all dense
        "n_routed_experts": 4,
        "n_shared_experts": 1,
        "num_experts_per_tok": 2,
        "first_k_dense_replace": layers,
        "moe_layer_freq": 1,
        "n_group": 1,
        "topk_group": 1,
        "topk_method": "greedy",
        "routed_scaling_factor": 1.0,
        "max_position_embeddings": 8192,
        "rms_norm_eps": 1e-6,
        "hidden_act": "silu",
        "bos_token_id": ids["<｜begin▁of▁sentence｜>"],
        "eos_token_id": ids["<｜end▁of▁sentence｜>"],
        "pad_token_id": ids["<｜▁pad▁｜>"],
        "tie_word_embeddings": False,
    }


def make_deepseek_ocr(folder: Path, version: int = 1) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ids = _write_tokenizer(
        folder,
        DEEPSEEK_TOKENS,
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "bos_token": "<｜begin▁of▁sentence｜>",
            "eos_token": "<｜end▁of▁sentence｜>",
            "pad_token": "<｜▁pad▁｜>",
            "add_bos_token": False,
            "model_max_length": 8192,
        },
    )
    hidden = 128
    language = _deepseek_language(ids, hidden, layers=2)
    arch = "DeepseekOCRForCausalLM" if version == 1 else "DeepseekOCR2ForCausalLM"
    config = {
        "architectures": [arch],
        "model_type": "deepseek_vl_v2",
        "language_config": language,
        # SAM-B (1024 ch) + CLIP-L (1024 ch) features in; v2's Qwen2-style encoder gives 896
        "projector_config": {
            "model_type": "mlp_projector",
            "projector_type": "linear",
            "input_dim": 2048 if version == 1 else 896,
            "n_embed": hidden,
        },
        "vision_config": {"model_type": "vision", "image_size": 1024},
        "tile_tag": "2D",
        "global_view_pos": "head",
        "candidate_resolutions": [[1024, 1024]],
        "torch_dtype": "float32",
        "vocab_size": VOCAB_SIZE,
    }
    _write_json(folder / "config.json", config)
    _write_json(
        folder / "generation_config.json",
        {
            "bos_token_id": language["bos_token_id"],
            "eos_token_id": language["eos_token_id"],
            "do_sample": False,
        },
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    out = Path(argv[0])
    make_qwen2_vl(out / "qwen2-vl-tiny")
    make_deepseek_ocr(out / "deepseek-ocr-tiny", version=1)
    make_deepseek_ocr(out / "deepseek-ocr2-tiny", version=2)
    print(f"tiny models in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
