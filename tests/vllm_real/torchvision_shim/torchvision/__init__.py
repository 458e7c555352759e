"""A stand-in for torchvision: test infrastructure of docpipe's real-vLLM tier, installed by
scripts/setup_vllm into .venv-vllm only (see ../README.md). Not the real package: the transforms vLLM's
DeepSeek-OCR processor uses work; every other function raises NotImplementedError when called."""

from torchvision import io, ops, transforms
from torchvision._stub import stub_getattr

__version__ = "0.0.0+docpipe.test.shim"
__all__ = ["io", "ops", "transforms"]
__getattr__ = stub_getattr(__name__)
