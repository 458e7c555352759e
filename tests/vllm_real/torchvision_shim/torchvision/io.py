"""ImageReadMode, which transformers' image_utils imports at module level; decoding is not here."""

import enum

from torchvision._stub import stub_getattr


class ImageReadMode(enum.Enum):
    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4


__getattr__ = stub_getattr(__name__)
