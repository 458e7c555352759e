"""Imported at module level by transformers' torchvision-backed image and video processors; with the
shim, image processing must run on transformers' PIL backend (the tier loads processors with
use_fast=False), so nothing here does real work."""

from torchvision._stub import stub_getattr
from torchvision.transforms import InterpolationMode
from torchvision.transforms.functional import pil_to_tensor

__all__ = ["InterpolationMode", "pil_to_tensor"]
__getattr__ = stub_getattr(__name__)
