"""ToTensor, Normalize and Compose (what vLLM's DeepSeek-OCR processor uses), with torch ops, and the
InterpolationMode enum that transformers' image processors name at class level."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from torchvision._stub import stub_getattr


class InterpolationMode(enum.Enum):
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


class ToTensor:
    """PIL image or HxWxC array -> CxHxW float tensor, uint8 scaled to [0, 1]."""

    def __call__(self, pic: Any) -> torch.Tensor:
        arr = np.array(pic, copy=True)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        t = torch.from_numpy(arr).permute(2, 0, 1).contiguous()
        return t.float().div(255) if t.dtype == torch.uint8 else t.float()


class Normalize:
    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor: torch.Tensor) -> torch.Tensor:
        mean = torch.as_tensor(self.mean, dtype=tensor.dtype).view(-1, 1, 1)
        std = torch.as_tensor(self.std, dtype=tensor.dtype).view(-1, 1, 1)
        return tensor.sub_(mean).div_(std) if self.inplace else (tensor - mean) / std


class Compose:
    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = t(x)
        return x


__all__ = ["Compose", "InterpolationMode", "Normalize", "ToTensor"]
__getattr__ = stub_getattr(__name__)
