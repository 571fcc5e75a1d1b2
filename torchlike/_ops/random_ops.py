"""Sampling ops: torch.normal, bernoulli, poisson, multinomial and the in-place
Tensor.normal_/uniform_/bernoulli_/exponential_/geometric_/cauchy_/log_normal_/random_.

Draws come from the torchlike Generator (bit equality with PyTorch's generator is not
a goal). As in PyTorch, samples are not reparameterised: their gradient with respect
to the distribution's parameters is zero (the nodes are still recorded, by name).
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype as dt
from .. import _random
from .._device import place
from .._tensor import Tensor
from ._common import NOT_IMPLEMENTED, expose, inplace_method, is_float, not_implemented, write_out
from .dispatch import apply
from .registry import FUNCTIONS, METHODS, Op, OPS
from ._util import broadcast_shapes, c_type_name, scalar_name


def _key(generator):
    key_data, counter = (generator or _random.default_generator).next_key()
    return key_data, counter


@functools.partial(jax.jit, static_argnames=("kind", "shape", "dtype"))
def _draw(key_data, counter, a, b, *, kind, shape, dtype):
    """One compiled sampler for the distributions _random.sample lacks."""
    key = jax.random.fold_in(jax.random.wrap_key_data(key_data), counter)
    if kind == "poisson":
        return jax.random.poisson(key, a, shape).astype(dtype)
    if kind == "geometric":      # trials until the first success, >= 1
        u = jax.random.uniform(key, shape, jnp.float64)
        return jnp.ceil(jnp.log1p(-u) / jnp.log1p(-a)).astype(dtype)
    if kind == "cauchy":
        return (a + b * jax.random.cauchy(key, shape, jnp.float64)).astype(dtype)
    if kind == "log_normal":
        return jnp.exp(a + b * jax.random.normal(key, shape, jnp.float64)).astype(dtype)
    if kind == "random":         # integers in [a, b], b up to int64's max
        return _randint_inclusive(key, shape, a, b).astype(dtype)
    raise ValueError(kind)


def _randint_inclusive(key, shape, low, high):
    """Integers uniform in [low, high] (int64 bounds; high may be int64's max)."""
    span = (high - low).astype(jnp.uint64) + jnp.uint64(1)     # 0 means all 2 ** 64 values
    bits = jax.random.bits(key, shape, jnp.uint64)
    offset = jnp.where(span == 0, bits, bits % jnp.where(span == 0, 1, span))
    return (low.astype(jnp.uint64) + offset).astype(jnp.int64)


def _sample(kind, shape, dtype, a, b, generator, device):
    key_data, counter = _key(generator)
    out = _draw(key_data, counter, a, b, kind=kind, shape=tuple(shape), dtype=dtype.np)
    if device is not None and device.type != "cpu":
        from .. import _device
        out = _device.place(out, device)
    return out


def _pending_draw_impl(key_data, counter, low, high, *, kind, shape, dtype):
    return _random._sample(key_data, counter, low, high, kind=kind, shape=shape, dtype=dtype)


OPS["random_sample"] = _pending_draw_op = Op("random_sample", _pending_draw_impl,
                                             differentiable=False)


def sample_pending(kind, shape, dtype, low=0.0, high=1.0, generator=None, device=None):
    """_random.sample() as a pending value (see _lazy.py): the draw runs inside whichever
    compiled call first needs it (a dropout mask, inside the fused backward), so a new
    shape does not compile a sampler of its own. Same numbers as _random.sample()."""
    from .. import _lazy
    key, counter = _random._key_for(generator)
    params = (("dtype", dtype.np), ("kind", kind), ("shape", tuple(shape)))
    return _lazy.defer(_pending_draw_op, params, [key, counter, low, high], device)


def _sampled_impl(*inputs):
    """inputs: (*parameters, drawn value); the result is the drawn value."""
    return jax.lax.stop_gradient(inputs[-1])


OPS["sampled"] = _sampled_op = Op("sampled", _sampled_impl, "NormalBackward0", ())


def _record(params, value, grad_fn, device):
    """The drawn value as the result of a node over `params` (zero gradients)."""
    drawn = Tensor._wrap(value, device)
    return apply(_sampled_op, tuple(params) + (drawn,), (), grad_fn)


# -- torch.normal ---------------------------------------------------------------------------
def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    mean_t, std_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not std_t and std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_g(std)}")
    if not mean_t and not std_t:
        from .._factories import _random_tensor
        shape = tuple(size)
        return _random_tensor("normal", shape, dtype, device, requires_grad, generator, mean, std)
    ref = mean if mean_t else std
    shape = broadcast_shapes(*(tuple(t.shape) for t in (mean, std) if isinstance(t, Tensor)))
    if std_t and bool((std < 0).any()):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    m = mean._data() if mean_t else mean
    s = std._data() if std_t else std
    value = _random.sample("normal", shape, ref._dtype, m, s, generator, ref.device)
    grad_fn = "NormalBackward3" if mean_t and std_t else ("NormalBackward1" if mean_t
                                                          else "NormalBackward2")
    return _record([t for t in (mean, std) if isinstance(t, Tensor)], value, grad_fn, ref.device)


def bernoulli(input, p=None, *, generator=None):
    probs = input._data() if p is None else p
    if p is None and not isinstance(probs, jax.core.Tracer):     # (a transform's: no values)
        values = np.asarray(probs)
        if values.size and (values.min() < 0 or values.max() > 1):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  "
                               "(Could this error message be improved?  If so, please report an "
                               "enhancement request to PyTorch.)")
    value = _random.sample("bernoulli", tuple(input.shape), input._dtype, probs, 0.0, generator,
                           input.device)
    return _record([input], value, "BernoulliBackward0" if p is None else NOT_IMPLEMENTED,
                   input.device)


def poisson(input, generator=None):
    if not is_float(input._dtype):
        raise not_implemented("poisson_cpu", input._dtype)
    value = _sample("poisson", input.shape, input._dtype, input._data(), 0.0, generator,
                    input.device)
    return _record([input], value, "PoissonBackward0", input.device)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Categorical draws per row; without replacement by the Gumbel top-k trick."""
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{scalar_name(input.dtype)}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    n = input.shape[-1]
    # PyTorch checks the sizes before it looks at the values
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    traced = input.detach()._raw()
    if isinstance(traced, jax.core.Tracer):     # (vmap, jit, compile: no values to check)
        return Tensor._wrap(_multinomial_traced(traced, num_samples, bool(replacement),
                                                generator), input.device)
    probs = np.asarray(input.detach()._data(), dtype=np.float64)
    if (probs < 0).any() or not np.isfinite(probs).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if (probs.sum(-1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    out = _multinomial_on_host(_random.numpy_generator(generator), probs, num_samples,
                               bool(replacement))
    return Tensor._wrap(place(out, input.device), input.device)


_SAME_RANDOMNESS = ("Vmap does not currently support same randomness with a batched tensor "
                    "input. Please file an issue with functorch")


def _multinomial_traced(probs, num_samples, replacement, generator):
    """The draws as JAX computes them, inside a transform (the generator's key: vmap's
    randomness rule applies): the Gumbel-max trick per draw, or top-k without
    replacement."""
    from jax._src.interpreters.batching import BatchTracer
    key_data, counter = _random._key_for(generator)
    if isinstance(probs, BatchTracer) and not isinstance(key_data, BatchTracer):
        raise RuntimeError(_SAME_RANDOMNESS)    # (vmap's randomness='same', batched input)
    key = jax.random.fold_in(jax.random.wrap_key_data(key_data), counter)
    real = probs.real.dtype if jnp.iscomplexobj(probs) else probs.dtype
    logits = jnp.log(probs.real if jnp.iscomplexobj(probs) else probs)
    if replacement:
        noise = jax.random.gumbel(key, (num_samples,) + probs.shape, real)
        return jnp.moveaxis(jnp.argmax(logits + noise, axis=-1), 0, -1).astype(jnp.int64)
    noise = jax.random.gumbel(key, probs.shape, real)
    return jax.lax.top_k(logits + noise, num_samples)[1].astype(jnp.int64)


def _multinomial_on_host(rng, probs, num_samples, replacement):
    """The draws by numpy, from `rng` (_random.numpy_generator: manual_seed reproduces
    them, as every draw). The probabilities are on the host already (their values were
    checked there), and a compiled draw cost 0.2-0.4 s of XLA compile per shape: the
    first token a model generates paid it."""
    rows = probs.reshape(-1, probs.shape[-1])
    if replacement:             # the inverse of each row's distribution function
        cdf = np.cumsum(rows, axis=-1)
        cdf /= cdf[:, -1:]
        u = rng.random((rows.shape[0], num_samples))
        out = np.stack([np.searchsorted(c, x, side="right") for c, x in zip(cdf, u)])
        # (a rounded total below 1 must not reach past the last possible class)
        last_possible = rows.shape[-1] - 1 - np.argmax(rows[:, ::-1] > 0, axis=-1)
        out = np.minimum(out, last_possible[:, None])
    else:                       # the Gumbel top-k trick: log p + Gumbel noise, largest k
        with np.errstate(divide="ignore"):      # (log 0 = -inf: never before a possible class)
            keys = np.log(rows) + rng.gumbel(size=rows.shape)
        out = np.argsort(-keys, axis=-1, kind="stable")[:, :num_samples]
    return out.reshape(probs.shape[:-1] + (num_samples,)).astype(np.int64)


expose("normal", normal, method=False, inplace=False)
expose("bernoulli", bernoulli, inplace=False)
expose("poisson", poisson, method=False, inplace=False, out=False)
def _multinomial_out(input, num_samples, replacement=False, *, generator=None, out=None):
    if out is not None and out.dtype is not dt.int64:
        raise RuntimeError(f"multinomial expects Long tensor out, got: {scalar_name(out.dtype)}")
    result = multinomial(input, num_samples, replacement, generator=generator)
    return result if out is None else write_out("multinomial", out, result)


expose("multinomial", multinomial, inplace=False, function=False)
FUNCTIONS["multinomial"] = _multinomial_out


# -- in-place samplers: self's values are replaced, its gradient becomes 0 ----------------------
def _g(x):
    """A number as PyTorch's messages print it (C++ streams: %g)."""
    return format(float(x), "g")


def _continuous_only(dist):
    def check(self):
        if not is_float(self._dtype):
            raise RuntimeError(f"{dist} distribution is a continuous probability distribution. "
                               f"dtype must be a floating point but you specified "
                               f"{dist_type_name(dist, self._dtype)}")
    return check


def dist_type_name(dist, d):
    # PyTorch's two messages name the dtype differently
    return c_type_name(d) if dist == "Cauchy" else scalar_name(d)


def _kernel(name, floats_only=True):
    def check(self):
        if floats_only and not is_float(self._dtype):
            raise not_implemented(name, self._dtype)
    return check


def _filled_with(kind, grad_fn, draw, check_args=None, check_dtype=None):
    """check_args(self, *args) and then check_dtype(self) raise PyTorch's errors, in
    PyTorch's order, before anything is drawn."""
    def method(self, *args, generator=None, **kwargs):
        if check_args is not None:
            check_args(self, *args, **kwargs)
        if check_dtype is not None:
            check_dtype(self)

        def compute(s):
            value = draw(s, *args, generator=generator, **kwargs)
            return _record([s], value, grad_fn, s.device)
        return inplace_method(compute)(self)
    method.__name__ = kind + "_"
    return method


def _shape(s):
    return tuple(s.shape)


_FLOAT_INFO = {dt.float16: np.finfo(np.float16), dt.float32: np.finfo(np.float32),
               dt.float64: np.finfo(np.float64), dt.bfloat16: jnp.finfo(jnp.bfloat16)}


def _check_uniform(self, a=0.0, b=1.0):
    if not is_float(self._dtype):
        raise not_implemented("check_uniform_bounds", self._dtype)
    info = _FLOAT_INFO.get(self._dtype if not self._dtype.is_complex else
                           (dt.float32 if self._dtype is dt.complex64 else dt.float64))
    lo, hi = float(info.min), float(info.max)
    for name, v in (("from", a), ("to", b)):
        if not lo <= v <= hi:
            raise RuntimeError(f"{name} is out of bounds for {c_type_name(self._dtype)}")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={_g(a)} > to={_g(b)}")
    if b - a > hi:
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<"
                           f"{scalar_name(self._dtype)}>::max(), but found to={_g(b)} and "
                           f"from={_g(a)} which result in to-from to exceed the limit")


def _check_normal(self, mean=0.0, std=1.0):
    # PyTorch's argument parser: normal_ takes Python numbers (a Tensor would otherwise
    # reach the compiled sampler, which JAX refuses with its own error)
    for position, (name, value) in enumerate((("mean", mean), ("std", std)), 1):
        if isinstance(value, Tensor):
            raise TypeError(f"normal_(): argument '{name}' (position {position}) must be "
                            "float, not Tensor")
    if not std >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_g(std)}")


def _positive(name, what, value):
    if not value > 0.0:
        raise RuntimeError(f"{name} expects {what} > 0.0, but found {what}={_g(value)}")


def _check_exponential(self, lambd=1.0):
    _positive("exponential_", "lambda", lambd)


def _check_cauchy(self, median=0.0, sigma=1.0):
    _positive("cauchy_", "sigma", sigma)


def _check_log_normal(self, mean=1.0, std=2.0):
    _positive("log_normal_", "std", std)


def _check_geometric(self, p):
    if not 0.0 < p < 1.0:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_g(p)}")


def _check_bernoulli(self, p=0.5):
    if isinstance(p, Tensor):
        values = np.asarray(p._data())
        if values.size and not ((values >= 0) & (values <= 1)).all():
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  "
                               "(Could this error message be improved?  If so, please report an "
                               "enhancement request to PyTorch.)")
    elif not 0.0 <= p <= 1.0:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_g(p)}")


METHODS["normal_"] = _filled_with(
    "normal", "NormalBackward0", lambda s, mean=0.0, std=1.0, generator=None:
    _random.sample("normal", _shape(s), s._dtype, mean, std, generator, s.device),
    _check_normal, _kernel("normal_kernel_cpu"))
METHODS["uniform_"] = _filled_with(
    "uniform", "UniformBackward0", lambda s, a=0.0, b=1.0, generator=None:
    _random.sample("uniform", _shape(s), s._dtype, a, b, generator, s.device), _check_uniform)
METHODS["exponential_"] = _filled_with(
    "exponential", "ExponentialBackward0", lambda s, lambd=1.0, generator=None:
    _random.sample("exponential", _shape(s), s._dtype, lambd, 0.0, generator, s.device),
    _check_exponential, _continuous_only("Exponential"))
METHODS["geometric_"] = _filled_with(
    "geometric", "GeometricBackward0", lambda s, p, generator=None:
    _sample("geometric", _shape(s), s._dtype, p, 0.0, generator, s.device), _check_geometric)
METHODS["cauchy_"] = _filled_with(
    "cauchy", "CauchyBackward0", lambda s, median=0.0, sigma=1.0, generator=None:
    _sample("cauchy", _shape(s), s._dtype, median, sigma, generator, s.device),
    _check_cauchy, _continuous_only("Cauchy"))
METHODS["log_normal_"] = _filled_with(
    "log_normal", "LogNormalBackward0", lambda s, mean=1.0, std=2.0, generator=None:
    _sample("log_normal", _shape(s), s._dtype, mean, std, generator, s.device),
    _check_log_normal, _kernel("log_normal_cpu"))


def _bernoulli_draw(s, p=0.5, generator=None):
    probs = p._data() if isinstance(p, Tensor) else p
    return _random.sample("bernoulli", _shape(s), s._dtype, probs, 0.0, generator, s.device)


METHODS["bernoulli_"] = _filled_with("bernoulli", "BernoulliBackward2", _bernoulli_draw,
                                     _check_bernoulli)

# random_()'s default range: [0, 2 ** digits] for floats (every integer there is exact),
# [0, max] for integers
_RANDOM_DEFAULT_TOP = {dt.float16: 2 ** 11, dt.bfloat16: 2 ** 8, dt.float32: 2 ** 24,
                       dt.float64: 2 ** 53, dt.bool: 1}


def _random_range(s, args, kwargs):
    """random_(), random_(to), random_(from, to): the inclusive range [low, high]."""
    if len(args) > 2:
        raise TypeError(f"random_() takes at most 2 arguments ({len(args)} given)")
    if len(args) == 2:
        from_, to = args
    elif len(args) == 1:
        from_, to = (args[0], kwargs.get("to")) if "to" in kwargs else (0, args[0])
    else:
        from_, to = kwargs.get("from", 0), kwargs.get("to")
    info = None if is_float(s._dtype) or s._dtype is dt.bool else np.iinfo(s._dtype.np)
    if to is not None:
        from_, to = int(from_), int(to)
        if not (-2 ** 63 <= from_ < 2 ** 63 and -2 ** 63 <= to < 2 ** 63):
            raise ValueError("Overflow when unpacking long long")
        if from_ >= to:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                               f"from={from_} >= to={to}")
        if not is_float(s._dtype):
            lo, hi = (0, 1) if info is None else (int(info.min), int(info.max))
            if not lo <= from_ <= hi:
                raise RuntimeError(f"from is out of bounds for {c_type_name(s._dtype)}")
            if not lo <= to - 1 <= hi:
                raise RuntimeError(f"to - 1 is out of bounds for {c_type_name(s._dtype)}")
        return from_, to - 1
    top = _RANDOM_DEFAULT_TOP.get(s._dtype)
    return int(from_), top if top is not None else int(info.max)


def _check_random(self, *args, **kwargs):
    if self._dtype.is_complex:
        raise not_implemented("random_kernel_cpu", self._dtype)
    _random_range(self, args, kwargs)


def _random_draw(s, *args, generator=None, **kwargs):
    low, high = _random_range(s, args, kwargs)
    return _sample("random", _shape(s), s._dtype, low, high, generator, s.device)


METHODS["random_"] = _filled_with("random", "RandomBackward0", _random_draw, _check_random)
