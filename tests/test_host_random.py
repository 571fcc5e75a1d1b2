"""Random draws made by numpy (torchlike/_host_random.py) are JAX's threefry numbers bit for
bit, so a draw made on the host or by the compiled sampler cannot be told apart, and the
first draws of a new shape compile nothing."""
import jax
import numpy as np
import pytest
import torch

import torchlike
from torchlike import _background, _host_random, _random
from torchlike._dtype import float16, float32, float64, int32, int64, uint8

from torchlike._caches import compiles

SHAPES = [(), (1,), (5,), (3, 4), (2, 3, 7)]


@pytest.mark.parametrize("seed", [0, 42, 2 ** 32 + 7, 2 ** 63 - 1])
def test_threefry_words_equal_jax(seed):
    key = jax.random.key_data(jax.random.key(seed))
    assert (_host_random.key_words(seed) == np.asarray(key)).all()
    for counter in (0, 1, 12345, 2 ** 32 - 1):
        folded = jax.random.fold_in(jax.random.wrap_key_data(key), counter)
        words = np.array(_host_random.folded_key(_host_random.key_words(seed), counter))
        assert (np.asarray(jax.random.key_data(folded)) == words).all()
        for shape in SHAPES:
            bits = np.asarray(jax.random.bits(folded, shape, np.uint32))
            assert (bits == _host_random.bits32(words, shape)).all()
            for dtype in (np.float32, np.float64):
                u = np.asarray(jax.random.uniform(folded, shape, dtype=dtype))
                mine = _host_random.uniform01(words, shape, dtype)
                assert mine.dtype == dtype and (u == mine).all()


DRAWS = [("uniform", float32, 0.0, 1.0), ("uniform", float64, 0, 1), ("uniform", float16, 0.0, 1.0),
         ("randint", int64, -3, 70), ("randint", int32, 0, 65535), ("randint", float32, 5, 9),
         ("randint", uint8, 0, 256), ("bernoulli", float32, 0.3, 0.0),
         ("bernoulli", int64, np.linspace(0, 1, 12).reshape(3, 4), 0.0)]


@pytest.mark.parametrize("kind,dtype,low,high", DRAWS)
def test_a_host_draw_is_the_compiled_samplers_draw(kind, dtype, low, high):
    shape = (3, 4)
    torchlike.manual_seed(11)
    key, counter = _random.default_generator.next_key()
    host = _random._drawn_on_host(kind, shape, dtype.np, low, high, key, counter)
    assert host is not None
    compiled = _random._sample(key, counter, low, high, kind=kind, shape=shape, dtype=dtype.np)
    assert host.dtype == compiled.dtype and host.shape == compiled.shape
    assert (np.asarray(host) == np.asarray(compiled)).all()


def test_other_draws_are_left_to_the_compiled_sampler():
    # (an exponential draw's log1p differs by an ulp at length 1 from a longer draw's:
    # XLA's CPU code for one element is not its vector code)
    key, counter = _random.default_generator.next_key()
    assert _random._drawn_on_host("exponential", (4,), np.dtype(np.float32), 1.0, 0.0, key,
                                  counter) is None
    assert _random._drawn_on_host("normal", (4,), np.dtype(np.complex64), 0.0, 1.0, key,
                                  counter) is None
    big = (_random.HOST_DRAW_LIMIT + 1,)
    assert _random._drawn_on_host("uniform", big, np.dtype(np.float32), 0.0, 1.0, key, counter) is None


def test_new_shapes_compile_nothing_and_the_compiled_sampler_takes_over_with_the_same_numbers():
    shape = (3, 5, 7)       # a shape no other test draws
    torchlike.manual_seed(5)
    before = compiles.total
    first = [torchlike.rand(*shape) for _ in range(3)]
    assert compiles.total == before
    for _ in range(_random.HOST_DRAWS):       # a loop: the sampler compiles in the background
        torchlike.rand(*shape)
    _background.wait()
    torchlike.manual_seed(5)
    before = compiles.total
    again = [torchlike.rand(*shape) for _ in range(3)]
    assert compiles.total == before           # (compiled already, on the worker thread)
    assert _background.compiled(("uniform", shape, np.dtype(np.float32), float, float))
    for a, b in zip(first, again):
        assert torch.equal(torch.from_numpy(a.numpy()), torch.from_numpy(b.numpy()))


def test_seeds_beyond_int64_draw_like_torch():
    # PyTorch takes any seed from -2**63 to 2**64 - 1 (negative ones modulo 2**64);
    # jax.random.key cannot convert those above 2**63 - 1, the key words can
    for seed in (2 ** 64 - 1, -1):
        torch.manual_seed(seed)
        torchlike.manual_seed(seed)
        assert torchlike.initial_seed() == torch.initial_seed()
        a = torchlike.rand(3)
        torchlike.manual_seed(seed)
        assert torch.equal(torch.from_numpy(a.numpy()), torch.from_numpy(torchlike.rand(3).numpy()))
        assert torchlike.randn(2).shape == torch.randn(2).shape


@pytest.mark.parametrize("kind,low,high,dtype", [("normal", 0.0, 1.0, float32),
                                                 ("uniform", -2.0, 3.0, float32),
                                                 ("normal", 0.5, 2.0, float64)])
def test_a_normal_or_uniform_draw_cut_from_a_flat_one_is_the_draw_of_its_shape(kind, low,
                                                                              high, dtype):
    # threefry's bits depend on the key and the element's row-major index only, and
    # these distributions transform each element alone: the first elements of a flat
    # draw of another length are the draw of the shape (here the shapes' own programs,
    # compiled for the comparison, against the shared bucket's)
    key, counter = _random.default_generator.next_key()
    for shape in ((1,), (7,), (3, 5), (1000,)):
        cut = _random._bucketed(kind, shape, dtype.np, low, high, key, counter)
        own = _random._sample(key, counter, low, high, kind=kind, shape=shape, dtype=dtype.np)
        assert cut.shape == own.shape and cut.dtype == own.dtype
        assert (np.asarray(own) == cut).all(), shape


def test_normal_draws_of_new_shapes_share_one_compile():
    torchlike.manual_seed(0)
    torchlike.randn(11, 13)            # (compiles the bucket of up to 1024 numbers, if new)
    before = compiles.total
    for shape in ((3, 17), (29,), (2, 5, 9)):
        torchlike.randn(*shape)
    assert compiles.total == before


def test_other_jax_random_settings_keep_jaxs_own_draws():
    # the numpy bits follow JAX's defaults (threefry keys, partitionable bits): with the
    # older bit scheme configured, draws are left to JAX, whose numbers then differ
    jax.config.update("jax_threefry_partitionable", False)
    try:
        key, counter = _random.default_generator.next_key()
        assert _random._drawn_on_host("uniform", (4,), np.dtype(np.float32), 0.0, 1.0, key,
                                      counter) is None
    finally:
        jax.config.update("jax_threefry_partitionable", True)
