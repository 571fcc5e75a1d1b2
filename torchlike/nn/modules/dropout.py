"""Dropout, Dropout1d/2d/3d: active in training mode only."""
from ..._tensor import Tensor
from ._functional import F
from .module import Module


class _DropoutNd(Module):
    _fn = "dropout"

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return F(self._fn)(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    _fn = "dropout"

    def forward(self, input):
        # p == 0 (a transformer built with dropout=0.0 calls three per layer): F.dropout
        # returns its input itself, in either mode, as PyTorch's does
        if self.p == 0 and isinstance(input, Tensor):
            return input
        return F("dropout")(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    _fn = "dropout1d"


class Dropout2d(_DropoutNd):
    _fn = "dropout2d"


class Dropout3d(_DropoutNd):
    _fn = "dropout3d"


class AlphaDropout(_DropoutNd):
    _fn = "alpha_dropout"


class FeatureAlphaDropout(_DropoutNd):
    _fn = "feature_alpha_dropout"
