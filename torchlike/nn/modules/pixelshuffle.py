"""torch.nn.modules.pixelshuffle's path: the classes live in upsampling.py."""
from .upsampling import PixelShuffle, PixelUnshuffle  # noqa: F401
