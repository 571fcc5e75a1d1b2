"""Generators: a JAX PRNG key plus a counter, so that each draw is one compiled call.

The same seed gives the same numbers (bit-equality with PyTorch's Mersenne Twister is
not a goal). Each draw folds the generator's counter into its key inside the compiled
sampler, so no key splitting happens on the host.
"""
import functools
import math
import random as _pyrandom

import jax
import jax.numpy as jnp
import numpy as np

from . import _device, _background, _host_random
from ._caches import LRU
from ._lazy import top_level


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
            # jax.random.key(seed)'s data as a numpy array: made without a compile (also
            # for seeds of 2**63 and above, which jax.random.key cannot convert), and
            # never a tracer, whatever JAX trace it is made in
            if _host_random.applies():
                self._key = _host_random.key_words(self._seed)
            else:                                   # another PRNG: JAX makes its key
                with jax.ensure_compile_time_eval():     # (outlives any jax.jit trace)
                    self._key = jax.random.key_data(jax.random.key(self._seed))
        counter = self._counter
        self._counter += 1
        if vmap_key_hook is not None:       # inside torchlike.func.vmap: its randomness rule
            return vmap_key_hook(self._key), counter
        return self._key, counter


# Set by torchlike.func.vmap while it traces: key -> the key a draw uses (or an error).
vmap_key_hook = None


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


def numpy_generator(generator=None):
    """A numpy generator for a draw made on the host (multinomial, nn.init), seeded with
    the torchlike generator's key and counter, which it advances like any draw: so
    manual_seed reproduces it, and it compiles nothing."""
    key, counter = _key_for(generator)
    return np.random.default_rng([*np.asarray(key, np.uint32).tolist(), counter])


SMALL_SPAN = 1 << 16      # randint draws over fewer integers than this take one word each


def _real_float(dtype):
    """The float type draws are made in (half types draw in float32, then round)."""
    return jnp.float64 if dtype in (jnp.float64, jnp.complex128) else jnp.float32


@functools.partial(jax.jit, static_argnames=("kind", "shape", "dtype", "extra"))
def _sample(key_data, counter, low, high, *, kind, shape, dtype, extra=None):
    """One compiled sampler for all distributions: 'uniform' in [low, high), 'normal'
    (mean low, std high), 'randint' in [low, high) (a span below SMALL_SPAN;
    'randint_wide' above), 'bernoulli' (p = low, a scalar or an array), 'exponential'
    (rate low), 'permutation' (n = shape[0]). Complex dtypes draw the real and
    imaginary parts independently."""
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
        # a span below SMALL_SPAN: one 32-bit word per draw, scaled to the span by a
        # multiply and a shift (each value from floor(2**32 / span) or one more of the
        # 2**32 words: at most span / 2**32 apart in probability, like PyTorch's own
        # modulo). It compiles in about half the time of jax.random.randint, which
        # draws twice as many bits and reduces them modulo the span.
        words = jax.random.bits(key, shape, jnp.uint32).astype(jnp.uint64)
        span = (jnp.asarray(high, jnp.int64) - low).astype(jnp.uint64)
        return (low + ((words * span) >> 32).astype(jnp.int64)).astype(dtype)
    if kind == "randint_wide":
        return jax.random.randint(key, shape, low, high, dtype=jnp.int64).astype(dtype)
    if kind == "bernoulli":
        return (jax.random.uniform(key, shape, dtype=jnp.float64) < low).astype(dtype)
    if kind == "exponential":
        return (jax.random.exponential(key, shape, dtype=real) / low).astype(dtype)
    if kind == "permutation":
        return jax.random.permutation(key, shape[0]).astype(dtype)
    raise ValueError(kind)


def sample(kind, shape, dtype, low=0.0, high=1.0, generator=None, device=None):
    """A jax array drawn from `generator` on `device` (a torchlike device)."""
    key, counter = _key_for(generator)
    shape = tuple(shape)
    if device is None or device.type == "cpu":
        out = _drawn_on_host(kind, shape, dtype.np, low, high, key, counter)
        if out is not None:
            return out
    out = _sample(key, counter, low, high, kind=kind, shape=shape, dtype=dtype.np)
    if device is not None and device.type != "cpu":
        out = _device.place(out, device)
    return out


# -- the first draws of a shape, on the host --------------------------------------------
HOST_DRAW_LIMIT = 1 << 16     # elements
HOST_DRAWS = 8                # draws of one signature on the host before its compiled one
_host_draws = LRU(1024)       # (kind, shape, dtype, low, high types) -> draws made so far


def _host_values(kind, shape, dtype, low, high, words):
    """The draw `_sample` makes, by numpy (_host_random), where its arithmetic is exact:
    uniform in [0, 1), randint over a small span, bernoulli; else None."""
    real = np.dtype(_real_float(dtype))
    if kind == "uniform" and low == 0 and high == 1 and dtype.kind == "f":
        return _host_random.uniform01(words, shape, real).astype(dtype)
    if kind == "randint" and dtype.kind in "iuf":
        span = np.uint64(int(high) - int(low))
        scaled = (_host_random.bits32(words, shape).astype(np.uint64) * span) >> np.uint64(32)
        return (np.int64(low) + scaled.astype(np.int64)).astype(dtype)
    if kind == "bernoulli":
        return (_host_random.uniform01(words, shape, np.float64) < np.asarray(low)).astype(dtype)
    return None


BUCKET_MIN = 1024


def _bucketed(kind, shape, dtype, low, high, key, counter):
    """A normal or uniform draw as the first elements of a flat draw of a power-of-two
    length, or None. Threefry's bits for an element depend only on the key and the
    element's row-major index, and these distributions transform each element on its
    own, so the numbers are those of the draw of `shape` (tests/test_host_random.py),
    and one compile serves every shape up to its length."""
    if (kind not in ("normal", "uniform") or dtype.kind != "f"
            or not all(isinstance(v, (int, float)) for v in (low, high))):
        return None
    n = math.prod(shape)
    length = max(BUCKET_MIN, 1 << (n - 1).bit_length())
    flat = _sample(key, counter, low, high, kind=kind, shape=(length,), dtype=dtype)
    return np.asarray(flat)[:n].reshape(shape)


def _drawn_on_host(kind, shape, dtype, low, high, key, counter):
    """A CPU draw of a shape new to the compiled sampler, computed by numpy (or, for
    normal and uniform draws numpy cannot make exactly, cut from a flat draw, `_bucketed`):
    the same numbers `_sample` gives, without its compile per shape (60-300 ms). A signature drawn
    HOST_DRAWS times has its sampler compiled on the worker thread, and uses it once it
    is ready. None where the draw must be the compiled one (inside a JAX trace, where a
    host value would be a constant of the program; a large or inexact draw)."""
    if (kind not in ("uniform", "randint", "bernoulli", "normal") or vmap_key_hook is not None
            or not top_level() or math.prod(shape) > HOST_DRAW_LIMIT
            or not _host_random.applies()
            or any(isinstance(v, jax.core.Tracer) for v in (key, low, high))):
        return None
    signature = (kind, shape, dtype, type(low), type(high))
    if _background.compiled(signature) is not None:
        return None
    words = _host_random.folded_key(np.asarray(key, np.uint32), counter)
    out = _host_values(kind, shape, dtype, low, high, words)
    if out is None:
        out = _bucketed(kind, shape, dtype, low, high, key, counter)
        if out is None:
            return None
    draws = _host_draws[signature] = _host_draws.get(signature, 0) + 1
    if draws >= HOST_DRAWS:       # (compile_later starts one job per signature)
        _background.compile_later(signature, _sample, (key, counter, low, high),
                                  dict(kind=kind, shape=shape, dtype=dtype))
    return jax.device_put(out)
