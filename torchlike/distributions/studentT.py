import math
import numbers

import torchlike

from . import constraints
from .chi2 import Chi2
from .distribution import Distribution
from .utils import as_size, broadcast_all

__all__ = ["StudentT"]


class StudentT(Distribution):
    """Student's t with `df` degrees of freedom, shifted by loc and scaled by scale."""
    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        scalar = all(isinstance(v, numbers.Number) for v in (df, loc, scale))
        super().__init__(() if scalar else self.df.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(StudentT, _instance)
        batch_shape = as_size(batch_shape)
        new.df = self.df.expand(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new._chi2 = self._chi2.expand(batch_shape)
        super(StudentT, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        m = self.loc.clone()
        m[self.df <= 1] = math.nan          # (no mean there)
        return m

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        # finite for df > 2, infinite for 1 < df <= 2, none for df <= 1 (written in place
        # where each holds, as PyTorch computes it)
        m = self.df.clone()
        finite = self.df > 2
        m[finite] = (self.scale[finite].pow(2) * self.df[finite] / (self.df[finite] - 2))
        m[(self.df <= 2) & (self.df > 1)] = math.inf
        m[self.df <= 1] = math.nan
        return m

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        normal = torchlike.randn(shape, dtype=self.df.dtype, device=self.df.device)
        chi2 = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * normal * torchlike.rsqrt(chi2 / self.df)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi)
             + torchlike.lgamma(0.5 * self.df) - torchlike.lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * torchlike.log1p(y ** 2 / self.df) - z

    def entropy(self):
        lbeta = (torchlike.lgamma(0.5 * self.df) + math.lgamma(0.5)
                 - torchlike.lgamma(0.5 * (self.df + 1)))
        return (self.scale.log()
                + 0.5 * (self.df + 1)
                * (torchlike.digamma(0.5 * (self.df + 1)) - torchlike.digamma(0.5 * self.df))
                + 0.5 * self.df.log() + lbeta)
