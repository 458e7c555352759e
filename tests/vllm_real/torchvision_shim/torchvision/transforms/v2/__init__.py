from torchvision._stub import stub_getattr
from torchvision.transforms.v2 import functional

__all__ = ["functional"]
__getattr__ = stub_getattr(__name__)
