import math

import torchlike

from . import constraints
from .binomial import Binomial
from .categorical import Categorical
from .distribution import Distribution
from .utils import as_size, broadcast_all

__all__ = ["Multinomial"]


class Multinomial(Distribution):
    """Counts of `total_count` draws among the categories of Categorical(probs/logits)."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = as_size(batch_shape)
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        super(Multinomial, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _new(self, *args, **kwargs):
        return self._categorical._new(*args, **kwargs)

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        sample_shape = tuple(sample_shape)
        draws = self._categorical.sample((self.total_count,) + sample_shape)
        draws = draws.permute(*range(1, draws.dim()), 0)     # (the draws last)
        counts = torchlike.zeros(tuple(self._extended_shape(sample_shape)), dtype=draws.dtype,
                                 device=draws.device)
        counts.scatter_add_(-1, draws, torchlike.ones_like(draws))
        return counts.type_as(self.probs)

    def entropy(self):
        # PyTorch takes lgamma(n + 1) of an integer tensor, so in the default float type
        # (float32): the same value here, rounded from float64 (XLA's float32 lgamma is a
        # few ulp from the correctly rounded one)
        n = self.total_count
        log_n_factorial = torchlike.tensor(math.lgamma(n + 1), dtype=torchlike.float64,
                                           device=self.probs.device).to(
            torchlike.get_default_dtype())
        term1 = n * self._categorical.entropy() - log_n_factorial
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = torchlike.exp(self._binomial.log_prob(support))
        term2 = (binomial_probs * torchlike.lgamma(support + 1)).sum([0, -1])
        return term1 + term2

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        logits = logits.clone()
        log_factorial_n = torchlike.lgamma(value.sum(-1) + 1)
        log_factorial_xs = torchlike.lgamma(value + 1).sum(-1)
        logits[(value == 0) & (logits == -math.inf)] = 0    # (0 draws of an impossible one)
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)
