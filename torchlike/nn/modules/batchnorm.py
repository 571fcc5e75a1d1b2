"""torch.nn.modules.batchnorm's path: the batch norm classes live in normalization.py."""
from .normalization import _NormBase, _BatchNorm, BatchNorm1d, BatchNorm2d, BatchNorm3d  # noqa: F401
