"""JAX's threefry random bits computed by numpy, bit for bit.

`_random._sample` is one jitted sampler whose program XLA compiles for every new
(distribution, shape, dtype): 60-300 ms each, paid by the first `rand`, `randint` or
`bernoulli` of a shape (a data set drawn once, a batch index, a mask). The draws whose
arithmetic is exact (uniform bits in [0, 1), integers scaled from 32-bit words, a
comparison of uniform floats) are computed here instead, from the same key and counter
and with the same integer operations as JAX's partitionable threefry
(`jax.random.bits` with `jax_threefry_partitionable`, the default), so they are the
very numbers the compiled sampler gives; which of the two made a draw never shows.
tests/test_host_random.py compares them with JAX's for several shapes, keys and counters.
"""
import jax
import numpy as np

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = np.uint32(0x1BD11BDA)


def applies():
    """Whether JAX draws as reproduced here: its default threefry keys, and bits made by
    the partitionable scheme (both JAX's defaults; a program may configure others)."""
    return (jax.config.jax_default_prng_impl == "threefry2x32"
            and jax.config.jax_threefry_partitionable)


def key_words(seed):
    """The key data `jax.random.key(seed)` holds for a 64-bit seed: its high and low
    32-bit words (computed here for seeds of 2**63 and above too, which jax.random.key
    cannot convert)."""
    return np.array([(seed >> 32) & 0xFFFFFFFF, seed & 0xFFFFFFFF], np.uint32)


def _rotate_left(x, r):
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def threefry2x32(k1, k2, x1, x2):
    """The Threefry-2x32 block cipher (20 rounds), as JAX's threefry2x32 primitive:
    the key (k1, k2) applied to the counter pairs (x1, x2), uint32 arrays."""
    with np.errstate(over="ignore"):         # (uint32 arithmetic wraps, as intended)
        ks = (k1, k2, k1 ^ k2 ^ _PARITY)
        x1, x2 = x1 + ks[0], x2 + ks[1]
        for i in range(5):
            for r in _ROTATIONS[i % 2]:
                x1 = x1 + x2
                x2 = _rotate_left(x2, r) ^ x1
            x1 = x1 + ks[(i + 1) % 3]
            x2 = x2 + ks[(i + 2) % 3] + np.uint32(i + 1)
    return x1, x2


def folded_key(key, counter):
    """jax.random.fold_in(key, counter) for a 32-bit counter (wrapped as JAX wraps it)."""
    return threefry2x32(key[0], key[1], np.uint32(0), np.uint32(counter & 0xFFFFFFFF))


def _bit_pairs(key, shape):
    """The two uint32 words threefry gives each element: the element's row-major index
    as a 64-bit counter (high, low word), enciphered with the key."""
    index = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.uint64).reshape(shape)
    high = (index >> np.uint64(32)).astype(np.uint32)
    return threefry2x32(key[0], key[1], high, index.astype(np.uint32))


def bits32(key, shape):
    """jax.random.bits(key, shape, uint32)."""
    b1, b2 = _bit_pairs(key, shape)
    return b1 ^ b2


def uniform01(key, shape, dtype):
    """jax.random.uniform(key, shape, dtype) in [0, 1) for float32 or float64: the top
    mantissa bits of the random words under the exponent of 1.0, minus 1 (exact)."""
    dtype = np.dtype(dtype)
    if dtype == np.float32:
        bits = bits32(key, shape)
        words = (bits >> np.uint32(32 - 23)) | np.uint32(0x3F800000)
    elif dtype == np.float64:
        b1, b2 = _bit_pairs(key, shape)
        bits = (b1.astype(np.uint64) << np.uint64(32)) | b2.astype(np.uint64)
        words = (bits >> np.uint64(64 - 52)) | np.uint64(0x3FF0000000000000)
    else:
        raise TypeError(dtype)
    return words.view(dtype) - dtype.type(1.0)
