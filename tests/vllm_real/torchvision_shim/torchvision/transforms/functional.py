"""pil_to_tensor (transformers' image_utils imports it); everything else raises when called."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from torchvision._stub import stub_getattr
from torchvision.transforms import InterpolationMode


def pil_to_tensor(pic: Any) -> torch.Tensor:
    arr = np.array(pic, copy=True)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


__all__ = ["InterpolationMode", "pil_to_tensor"]
__getattr__ = stub_getattr(__name__)
