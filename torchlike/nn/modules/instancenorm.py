"""torch.nn.modules.instancenorm's path: the classes live in normalization.py."""
from .normalization import _InstanceNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d  # noqa: F401
