"""What every backend takes and gives: one image plus prompt in, one completion out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from docpipe import errors

if TYPE_CHECKING:
    from PIL import Image


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
    prompt_token_ids: list[int] | None = None  # vLLM: offline always, over HTTP with return_token_ids

    @property
    def visual_tokens(self) -> int | None:
        """Image tokens the engine put in the prompt, where it told us the prompt's token ids."""
        return engine_visual_tokens(self.prompt_token_ids)


def engine_visual_tokens(prompt_token_ids: list[int] | None) -> int | None:
    """The longest run of one repeated token id: in a one-image prompt of DeepSeek-OCR or Qwen-VL
    the image placeholder tokens form one contiguous run of the placeholder id."""
    if not prompt_token_ids:
        return None
    best = run = 0
    prev = None
    for tok in prompt_token_ids:
        run = run + 1 if tok == prev else 1
        prev = tok
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
