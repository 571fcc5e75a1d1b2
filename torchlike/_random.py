"""Generators: a JAX PRNG key plus a counter, so that each draw is one compiled call.

The same seed gives the same numbers (bit-equality with PyTorch's Mersenne Twister is
not a goal). Each draw folds the generator's counter into its key inside the compiled
sampler, so no key splitting happens on the host.
"""
import functools
import random as _pyrandom

import jax
import jax.numpy as jnp

from . import _device


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
            with jax.ensure_compile_time_eval():    # the key outlives any jax.jit trace
                self._key = jax.random.key_data(
                    jax.random.key(self._seed & 0xFFFF_FFFF_FFFF_FFFF))
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
    out = _sample(key, counter, low, high, kind=kind, shape=tuple(shape), dtype=dtype.np)
    if device is not None and device.type != "cpu":
        out = jax.device_put(out, _device.to_jax(device))
    return out
