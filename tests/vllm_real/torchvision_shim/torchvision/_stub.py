"""Names the shim does not implement: importable (transformers imports many at module level), and
failing loudly the moment anything calls them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn


def stub_getattr(module: str) -> Callable[[str], Any]:
    """A module-level __getattr__ that hands out a raising stand-in for any public name."""

    def __getattr__(name: str) -> Callable[..., NoReturn]:
        if name.startswith("__"):
            raise AttributeError(f"module {module!r} has no attribute {name!r}")

        def missing(*args: Any, **kwargs: Any) -> NoReturn:
            raise NotImplementedError(
                f"{module}.{name}: not in docpipe's torchvision test shim (tests/vllm_real/torchvision_shim)"
            )

        missing.__name__ = missing.__qualname__ = name
        return missing

    return __getattr__
