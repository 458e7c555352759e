"""The VLM engine: DeepSeek-OCR, Qwen-VL and any OpenAI-compatible vision model, on vLLM offline,
an OpenAI-compatible server, or transformers. Heavy dependencies are imported lazily."""

from docpipe.engines.vlm.backends.base import BackendError, MissingExtra
from docpipe.engines.vlm.engine import ImageSink, VlmEngine
from docpipe.engines.vlm.settings import VlmSettings

__all__ = ["BackendError", "ImageSink", "MissingExtra", "VlmEngine", "VlmSettings"]
