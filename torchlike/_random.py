"""Generators: a JAX PRNG key plus a counter, so that each draw is one compiled call.

The same seed gives the same numbers (bit-equality with PyTorch's Mersenne Twister is
not a goal). Each draw folds the generator's counter into its key inside the compiled
sampler, so no key splitting happens on the host.
"""
import builtins
import functools
import random as _pyrandom

import jax
import jax.numpy as jnp
import numpy as np

from . import _device
from ._ops.registry import OPS, Op, tensor_method, torch_function


class Generator:
    def __init__(self, device="cpu"):
        self.device = _device.device(device)
        self._seed = 67280421310721
        self._key = None
        self._counter = 0

    def manual_seed(self, seed):
        seed = int(seed)
        if not -0x8000_0000_0000_0000 <= seed <= 0xFFFF_FFFF_FFFF_FFFF:
            raise RuntimeError("Overflow when unpacking long")
        self._seed = seed % (1 << 64)
        self._key = None
        self._counter = 0
        return self

    def seed(self):
        s = _pyrandom.getrandbits(63)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        from ._factories import tensor
        from . import _dtype as dt
        return tensor([self._seed & 0xFFFFFFFF, self._seed >> 32, self._counter], dtype=dt.int64)

    def set_state(self, state):
        lo, hi, counter = (int(v) for v in state.tolist())
        self.manual_seed(lo | (hi << 32))
        self._counter = counter
        return self

    def next_key(self):
        """The (key, counter) pair for the next draw."""
        if self._key is None:
            self._key = jax.random.key_data(jax.random.key(self._seed & 0xFFFF_FFFF_FFFF_FFFF))
        counter = self._counter
        self._counter += 1
        return self._key, counter


default_generator = Generator()


def manual_seed(seed):
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def _key_for(generator):
    return (generator or default_generator).next_key()


def _real_float(dtype):
    """The float type draws are made in (half types draw in float32, then round)."""
    return jnp.float64 if dtype in (jnp.float64, jnp.complex128) else jnp.float32


@functools.partial(jax.jit, static_argnames=("kind", "shape", "dtype", "extra"))
def _sample(key_data, counter, low, high, *, kind, shape, dtype, extra=None):
    """One compiled sampler for all distributions: 'uniform' in [low, high), 'normal'
    (mean low, std high), 'randint' in [low, high), 'bernoulli' (p = low, a scalar or an
    array), 'exponential' (rate low), 'cauchy' (median low, sigma high), 'log_normal'
    (mean low, std high of the log), 'geometric' (p = low), 'permutation' (n = shape[0]).
    Complex dtypes draw the real and imaginary parts independently."""
    key = jax.random.fold_in(jax.random.wrap_key_data(key_data), counter)
    dtype = jnp.dtype(dtype)
    real = _real_float(dtype)
    if jnp.issubdtype(dtype, jnp.complexfloating) and kind in ("uniform", "normal"):
        parts = _sample(key_data, counter, low, high, kind=kind, shape=tuple(shape) + (2,),
                        dtype=real)
        if kind == "normal":     # each part carries half the variance, as PyTorch
            parts = low + (parts - low) / jnp.sqrt(jnp.asarray(2.0, real))
        return (parts[..., 0] + 1j * parts[..., 1]).astype(dtype)
    if kind == "uniform":
        u = jax.random.uniform(key, shape, dtype=real)
        return (low + (high - low) * u).astype(dtype)
    if kind == "normal":
        n = jax.random.normal(key, shape, dtype=real)
        return (low + high * n).astype(dtype)
    if kind == "randint":
        return jax.random.randint(key, shape, low, high, dtype=jnp.int64).astype(dtype)
    if kind == "bernoulli":
        return (jax.random.uniform(key, shape, dtype=jnp.float64) < low).astype(dtype)
    if kind == "exponential":
        return (jax.random.exponential(key, shape, dtype=real) / low).astype(dtype)
    if kind == "cauchy":
        return (low + high * jax.random.cauchy(key, shape, dtype=real)).astype(dtype)
    if kind == "log_normal":
        return jnp.exp(low + high * jax.random.normal(key, shape, dtype=real)).astype(dtype)
    if kind == "geometric":
        u = jax.random.uniform(key, shape, dtype=jnp.float64, minval=jnp.finfo(jnp.float64).tiny)
        return jnp.ceil(jnp.log(u) / jnp.log1p(-low)).astype(dtype)
    if kind == "permutation":
        return jax.random.permutation(key, shape[0]).astype(dtype)
    if kind == "categorical":       # extra = (num_samples, replacement); low = probabilities
        n, replacement = extra
        logits = jnp.log(low.astype(jnp.float64))
        if replacement:
            draws = jax.random.categorical(key, logits, axis=-1, shape=(n,) + logits.shape[:-1])
            return jnp.moveaxis(draws, 0, -1).astype(dtype)
        gumbel = jax.random.gumbel(key, logits.shape, dtype=jnp.float64)
        return jax.lax.top_k(logits + gumbel, n)[1].astype(dtype)
    raise ValueError(kind)


def sample(kind, shape, dtype, low=0.0, high=1.0, generator=None, device=None, extra=None):
    """A jax array drawn from `generator` on `device` (a torchlike device)."""
    key, counter = _key_for(generator)
    out = _sample(key, counter, low, high, kind=kind, shape=tuple(shape), dtype=dtype.np,
                  extra=extra)
    if device is not None and device.type != "cpu":
        out = jax.device_put(out, _device.to_jax(device))
    return out


# -- in-place random fills: Tensor.uniform_, normal_, bernoulli_ ... ------------------------
# Each writes a fresh sample into the tensor (through views, bumping the version) and, when
# the tensor needs grad, records a node whose gradient is zero, named as PyTorch names it.
def _fill_with_sample_impl(a, drawn):
    return drawn


_FILL = Op("random_fill", _fill_with_sample_impl, "UniformBackward0", ())
OPS["random_fill"] = _FILL

# PyTorch's C++ scalar-type names in "not implemented for 'Long'" errors
_KERNEL_TYPE_NAME = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short",
                     "int32": "Int", "int64": "Long"}


def _fill_random(self, kind, low, high, generator, grad_fn):
    from ._tensor import Tensor
    from ._ops.dispatch import apply
    drawn = Tensor._wrap(sample(kind, tuple(self.shape), self._dtype, low, high, generator,
                                self.device), self.device)
    return self._inplace(lambda s: apply(_FILL, (s, drawn), (), grad_fn))


def _require_float(self, kernel):
    if not (self._dtype.is_floating_point or self._dtype.is_complex):
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_KERNEL_TYPE_NAME[self._dtype.name]}'")


def _number(x):
    return x.item() if hasattr(x, "item") and not isinstance(x, (int, float)) else x


@tensor_method("uniform_")
def uniform_(self, from_=0.0, to=1.0, *, generator=None):
    _require_float(self, "check_uniform_bounds")
    from_, to = _number(from_), _number(to)
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={_fmt(from_)} > to={_fmt(to)}")
    return _fill_random(self, "uniform", from_, to, generator, "UniformBackward0")


@tensor_method("normal_")
def normal_(self, mean=0.0, std=1.0, *, generator=None):
    _require_float(self, "normal_kernel_cpu")
    mean, std = _number(mean), _number(std)
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")
    return _fill_random(self, "normal", mean, std, generator, "NormalBackward0")


@tensor_method("bernoulli_")
def bernoulli_(self, p=0.5, *, generator=None):
    from ._tensor import Tensor
    if isinstance(p, Tensor):
        from ._ops.views import expand
        probs = np.asarray(expand(p, tuple(self.shape)).detach().double())
        return _fill_random(self, "bernoulli", probs, 0.0, generator, "BernoulliBackward1")
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_fmt(p)}")
    return _fill_random(self, "bernoulli", float(p), 0.0, generator, "BernoulliBackward2")


@tensor_method("exponential_")
def exponential_(self, lambd=1.0, *, generator=None):
    _require_float(self, "exponential_cpu")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_fmt(lambd)}")
    return _fill_random(self, "exponential", float(lambd), 0.0, generator,
                        "ExponentialBackward0")


@tensor_method("cauchy_")
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    _require_float(self, "cauchy_cpu")
    return _fill_random(self, "cauchy", float(median), float(sigma), generator,
                        "CauchyBackward0")


@tensor_method("log_normal_")
def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    _require_float(self, "log_normal_cpu")
    return _fill_random(self, "log_normal", float(mean), float(std), generator,
                        "LogNormalBackward0")


@tensor_method("geometric_")
def geometric_(self, p, *, generator=None):
    return _fill_random(self, "geometric", float(p), 0.0, generator, "GeometricBackward0")


# the largest integer each floating type holds exactly: random_()'s default range ends there
_RANDOM_FLOAT_TOP = {"float16": 2 ** 11, "bfloat16": 2 ** 8, "float32": 2 ** 24,
                     "float64": 2 ** 53}


@tensor_method("random_")
def random_(self, from_=None, to=None, *, generator=None):
    if from_ is not None and to is None:        # random_(to)
        from_, to = 0, from_
    from_ = 0 if from_ is None else int(from_)
    if to is None:
        if self._dtype is dt_bool():
            to = 2
        elif self._dtype.name in _RANDOM_FLOAT_TOP:
            to = _RANDOM_FLOAT_TOP[self._dtype.name] + 1
        else:
            to = int(np.iinfo(self._dtype.np).max) + 1
    if from_ >= to:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={from_} >= to={to}")
    return _fill_random(self, "randint", from_, builtins.min(to, 2 ** 63 - 1), generator,
                        "RandomBackward0")


def dt_bool():
    from . import _dtype
    return _dtype.bool


def _fmt(x):
    """A number as PyTorch's C++ formats it in messages (1.5, 2, -1)."""
    return f"{x:g}" if isinstance(x, float) else str(x)


# -- functional samplers ------------------------------------------------------------------
@torch_function("bernoulli", method=True)
def bernoulli(input, p=None, *, generator=None, out=None):
    """Draws with probabilities `input` (or a fixed p), shaped and typed like input."""
    from ._tensor import Tensor
    probs = np.asarray(input.detach().double()) if p is None else float(p)
    if p is None and probs.size and not (probs.min() >= 0 and probs.max() <= 1):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  "
                           "(Could this error message be improved?  If so, please report an "
                           "enhancement request to PyTorch.)")
    drawn = sample("bernoulli", tuple(input.shape), input._dtype, probs, 0.0, generator,
                   input.device)
    return Tensor._wrap(drawn, input.device)


@torch_function("normal")
def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, pin_memory=False, requires_grad=False):
    """normal(mean, std, size) with numbers, or elementwise with tensor mean and/or std."""
    from ._tensor import Tensor
    from . import _dtype
    from ._factories import _finish
    from ._ops._util import broadcast_shapes
    tensors = [x for x in (mean, std) if isinstance(x, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments")
        d = dtype or _dtype.get_default_dtype()
        dev = _device.canonical(device)
        return _finish(sample("normal", tuple(size), d, float(mean), float(std), generator, dev),
                       dev, requires_grad)
    shape = broadcast_shapes(*(tuple(t.shape) for t in tensors))
    ref = tensors[0]
    if not isinstance(std, Tensor) and std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")
    values = [np.broadcast_to(np.asarray(x.detach()), shape) if isinstance(x, Tensor) else x
              for x in (mean, std)]
    drawn = sample("normal", shape, ref._dtype, values[0], values[1], generator, ref.device)
    return Tensor._wrap(drawn, ref.device)


@torch_function("multinomial", method=True)
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    from ._tensor import Tensor
    from . import _dtype
    if not replacement and num_samples > input.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    probs = jnp.asarray(np.asarray(input.detach().double()))
    drawn = sample("categorical", (), _dtype.int64, probs, 0.0, generator, input.device,
                   extra=(int(num_samples), bool(replacement)))
    return Tensor._wrap(drawn, input.device)
