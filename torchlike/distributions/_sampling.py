"""The samplers that PyTorch's distributions need beyond torchlike's random functions:
gamma and Dirichlet draws that are differentiable in their concentration (implicit
reparameterisation, which jax.random.gamma implements), and binomial counts.

Each is an `Op` applied through dispatch (so autograd records it; it is not exposed as a
torchlike function, as torch._standard_gamma is private), whose inputs are the
generator's key and counter plus the parameters; the key and counter are plain arrays,
never tensors that could carry gradients."""
import jax
import jax.numpy as jnp

from .. import _random
from .._ops.dispatch import apply
from .._ops.registry import Op


def _key(key_data, counter):
    return jax.random.fold_in(jax.random.wrap_key_data(key_data), counter)


def _standard_gamma_impl(key_data, counter, concentration):
    draws = jax.random.gamma(_key(key_data, counter), concentration, concentration.shape,
                             concentration.dtype)
    # like PyTorch, never exactly 0 (so log(sample) stays finite)
    return jnp.maximum(draws, jnp.finfo(concentration.dtype).tiny)


def _dirichlet_impl(key_data, counter, concentration):
    draws = jax.random.dirichlet(_key(key_data, counter), concentration,
                                 concentration.shape[:-1], concentration.dtype)
    return jnp.maximum(draws, jnp.finfo(concentration.dtype).tiny)


def _binomial_impl(key_data, counter, count, prob):
    draws = jax.random.binomial(_key(key_data, counter), count, prob, count.shape,
                                jnp.float64 if count.dtype == jnp.float64 else jnp.float32)
    return draws.astype(count.dtype)


_standard_gamma_op = Op("standard_gamma", _standard_gamma_impl, "StandardGammaBackward0")
_dirichlet_op = Op("sample_dirichlet", _dirichlet_impl, "_DirichletBackward")
_binomial_op = Op("binomial", _binomial_impl, "BinomialBackward0", differentiable=False)


def standard_gamma(concentration, generator=None):
    """Gamma(concentration, 1) draws, shaped like `concentration`."""
    key, counter = _random._key_for(generator)
    return apply(_standard_gamma_op, (key, counter, concentration))


def sample_dirichlet(concentration, generator=None):
    """Dirichlet draws over the last dimension of `concentration`."""
    key, counter = _random._key_for(generator)
    return apply(_dirichlet_op, (key, counter, concentration))


def binomial(count, prob, generator=None):
    """Binomial(count, prob) draws (not differentiable, as in PyTorch)."""
    key, counter = _random._key_for(generator)
    return apply(_binomial_op, (key, counter, count, prob))
