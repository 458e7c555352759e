"""Backends run a vision-language model: vLLM offline, an OpenAI-compatible server, or transformers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docpipe.engines.vlm.backends.base import (
    Backend,
    BackendError,
    MissingExtra,
    VlmRequest,
    VlmResponse,
)

if TYPE_CHECKING:
    from docpipe.engines.vlm.settings import VlmSettings

__all__ = ["Backend", "BackendError", "MissingExtra", "VlmRequest", "VlmResponse", "make_backend"]


def make_backend(settings: VlmSettings) -> Backend:
    if settings.backend == "openai":
        from docpipe.engines.vlm.backends.openai_http import OpenAIBackend

        return OpenAIBackend(settings)
    if settings.backend == "vllm":
        from docpipe.engines.vlm.backends.vllm_offline import VllmBackend

        return VllmBackend(settings)
    if settings.backend == "transformers":
        from docpipe.engines.vlm.backends.hf_transformers import TransformersBackend

        return TransformersBackend(settings)
    raise ValueError(f"unknown VLM backend {settings.backend!r}: use vllm, openai or transformers")
