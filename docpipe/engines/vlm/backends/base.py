"""What every backend takes and gives: one image plus prompt in, one completion out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from docpipe import errors

if TYPE_CHECKING:
    from PIL import Image

    from docpipe.engines.vlm.settings import VlmSettings


class MissingExtra(ImportError, errors.MissingExtra):
    """An optional dependency of a backend is not installed; the message says what to install."""


class BackendError(RuntimeError):
    """A request failed for good (after the backend's own retries)."""


def require(module: str, extra: str) -> Any:
    """Import an optional dependency lazily, failing with the pip command that fixes it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(
            f"the VLM backend needs {module.split('.')[0]!r}: pip install 'docpipe[{extra}]'"
        ) from exc


@dataclass
class VlmRequest:
    prompt: str  # the user text, without model-specific image placeholders
    image: Image.Image
    system: str | None = None
    max_tokens: int = 8192
    temperature: float = 0.0
    # vLLM-specific knobs: DeepSeek-OCR's n-gram processor args and the processor's resolution mode
    sampling_extra: dict[str, Any] = field(default_factory=dict)
    mm_processor_kwargs: dict[str, Any] = field(default_factory=dict)
    # profile's raw-prompt template for offline backends (vLLM): '{prompt}' is replaced, '<image>' kept
    raw_prompt: str | None = None
    json_schema: dict[str, Any] | None = None  # constrained decoding, where the server offers it
    skip_special_tokens: bool = True
    detail: str | None = None  # OpenAI image detail for this request; None uses the settings' value
    tag: str = ""  # for logs and tests: page/figure id
    visual_tokens: int = 0  # the image's cost in visual tokens, for batch budgets


@dataclass
class VlmResponse:
    text: str
    finish_reason: str | None = None  # 'stop' (EOS), 'length' (token limit), ...
    completion_tokens: int | None = None
    prompt_tokens: int | None = None
    seconds: float = 0.0
    attempts: int = 1
    #: the prompt as the engine tokenized it (vLLM: `return_token_ids`, or offline), None where the
    #: engine does not say; see engine_visual_tokens
    prompt_token_ids: list[int] | None = None

    @property
    def visual_tokens(self) -> int | None:
        """Image tokens the engine put in the prompt, where it told us the prompt's token ids."""
        return engine_visual_tokens(self.prompt_token_ids)


#: tokens kept free between prompt and completion when fitting max_tokens into the context
CONTEXT_MARGIN = 16


def predicted_prompt_tokens(req: VlmRequest) -> int:
    """Prompt tokens a request will cost: its visual tokens plus its text, over-estimated (3
    characters a token, and room for the chat template) so a fitted max_tokens errs on the small side."""
    chars = len(req.prompt) + len(req.system or "")
    return req.visual_tokens + chars // 3 + 32


def fit_max_tokens(req: VlmRequest, max_model_len: int | None, prompt_tokens: int | None = None) -> int:
    """The request's max_tokens, cut to what the context leaves after the prompt: a prompt plus
    max_tokens beyond the context is a 400 on vLLM <= 0.20 (newer ones clamp)."""
    if not max_model_len:
        return req.max_tokens
    prompt = predicted_prompt_tokens(req) if prompt_tokens is None else prompt_tokens
    return max(1, min(req.max_tokens, max_model_len - prompt - CONTEXT_MARGIN))


def offline_max_model_len(llm: Any) -> int | None:
    """The context length of a `vllm.LLM` (None for anything that does not have one)."""
    engine = getattr(llm, "llm_engine", None)
    value = getattr(getattr(engine, "model_config", None), "max_model_len", None)
    return value if isinstance(value, int) and value > 0 else None


def offline_max_tokens(req: VlmRequest, settings: VlmSettings, llm: Any) -> int:
    """max_tokens for vLLM offline: fitted into settings.max_model_len, else the LLM's own."""
    return fit_max_tokens(req, settings.max_model_len or offline_max_model_len(llm))


def engine_visual_tokens(prompt_token_ids: list[int] | None) -> int | None:
    """Visual tokens the engine itself put into a single-image prompt: the longest run of one
    repeated token id. vLLM expands the image placeholder into one contiguous run of the image token
    (DeepSeek-OCR, Qwen2/2.5/3-VL), and no text of a prompt repeats one token that often."""
    if not prompt_token_ids:
        return None
    best = run = 1
    for prev, cur in zip(prompt_token_ids, prompt_token_ids[1:], strict=False):
        run = run + 1 if cur == prev else 1
        best = max(best, run)
    return best


class Backend(Protocol):
    name: str

    async def agenerate(self, request: VlmRequest) -> VlmResponse:
        """One request. Raises BackendError once retries are spent."""
        ...

    def generate_batch(self, requests: list[VlmRequest]) -> list[VlmResponse | BaseException]:
        """Many requests at once (vLLM batches them internally); one result or error per request."""
        ...
