"""A small fused backward is compiled by XLA's quicker code generator, always the same
way (torchlike/_small_programs.py); a larger one as before."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import torchlike
from torchlike import _caches, _small_programs
from torchlike._caches import LRU
from torchlike.autograd import engine

from helpers import float_tol

torch = pytest.importorskip("torch", reason="the torch oracle is needed to compare values")


@pytest.fixture
def fresh_cache(monkeypatch):
    """An empty cache of fused programs, so that each graph here is met for the first
    time whatever other tests ran in this process."""
    cache = LRU(1024)
    monkeypatch.setattr(engine, "_fused_cache", cache)
    return cache


def _quick(cache):
    return [v for v in cache.values() if type(v) is _small_programs.Quick]


def _grads(lib, data, weight, steps=1):
    """The gradients of a small network's loss, `steps` times over."""
    w = lib.tensor(weight, requires_grad=True)
    x = lib.tensor(data)
    out = []
    for _ in range(steps):
        w.grad = None
        lib.nn.functional.log_softmax(lib.tanh(x @ w).exp(), 1).mean().backward()
        out.append(w.grad.detach().numpy().copy())
    return out


def _grad_tol(data):
    """float_tol for _grads' gradient against torch's. Each entry sums, over the N rows,
    x times the loss's derivative by that row's pre-activation, which is at most
    2e / (3N) in magnitude (the mean over N x 3 outputs; log_softmax's derivative summed
    over its 3 classes, |1 - 3 softmax| <= 2; exp(tanh)' <= e): the terms that may cancel
    are at most a column's sum of |x| times that. Roundings on an entry's path: the K-term
    dot, tanh and exp (4 each), the 3-way log_softmax (13) and its derivative (10), the
    chain's products (4), the N-term sum: K + N + 35, and 5 to spare."""
    n, k = data.shape
    scale = float(np.abs(data).sum(0).max()) * 2 * np.e / (3 * n)
    return float_tol(torch.float32, steps=k + n + 40, scale=scale)


def test_a_small_backward_compiles_quickly_once_and_gives_torchs_numbers(fresh_cache):
    rng = np.random.default_rng(0)
    data, weight = rng.standard_normal((5, 7), np.float32), rng.standard_normal((7, 3), np.float32)
    compiles, traces = _caches.compiles.total, engine.stats.fused_traces
    first, *rest = _grads(torchlike, data, weight, steps=3)
    assert len(_quick(fresh_cache)) == 1
    assert (_caches.compiles.total, engine.stats.fused_traces) == (compiles + 1, traces + 1)
    for later in rest:
        assert later.tobytes() == first.tobytes()
    want, = _grads(torch, data, weight)
    np.testing.assert_allclose(first, want, **_grad_tol(data))


def test_a_program_with_a_large_input_compiles_as_before_and_traces_once(fresh_cache):
    data = np.linspace(-1, 1, 4 * 400, dtype=np.float32).reshape(400, 4)   # 1600 elements
    weight = np.linspace(0.5, -0.5, 12, dtype=np.float32).reshape(4, 3)
    traces = engine.stats.fused_traces
    got, = _grads(torchlike, data, weight)
    assert not _quick(fresh_cache) and len(fresh_cache) == 1
    assert engine.stats.fused_traces == traces + 1     # (the call reused the lowering)
    want, = _grads(torch, data, weight)
    np.testing.assert_allclose(got, want, **_grad_tol(data))


def test_a_program_with_a_large_output_compiles_as_before():
    cache = {}
    x = jnp.ones(3)
    out = _small_programs.first_call(jax.jit(lambda x: jnp.zeros(2000) + x.sum()), (x,),
                                     cache, "key")
    assert not cache and out.shape == (2000,) and float(out[0]) == 3.0


def test_other_shapes_of_a_quick_program_take_the_jitted_function(fresh_cache):
    weight = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    for rows in (4, 5, 600, 4):
        data = np.linspace(-1, 1, rows * 2, dtype=np.float32).reshape(rows, 2)
        got, = _grads(torchlike, data, weight)
        want, = _grads(torch, data, weight)
        np.testing.assert_allclose(got, want, **_grad_tol(data))
    assert len(_quick(fresh_cache)) == 1


def test_released_executables_are_compiled_again_the_same_way(fresh_cache):
    data, weight = np.eye(3, 4, dtype=np.float32), np.full((4, 2), 0.25, np.float32)
    before, = _grads(torchlike, data, weight)
    quick, = _quick(fresh_cache)
    jax.clear_caches()                           # (as past the budget: _caches)
    _small_programs.release(fresh_cache)
    assert quick.executable is None
    compiles = _caches.compiles.total
    after, = _grads(torchlike, data, weight)
    assert quick.executable is not None and _caches.compiles.total == compiles + 1
    assert after.tobytes() == before.tobytes()


def test_an_xla_without_the_option_compiles_as_before(fresh_cache, monkeypatch):
    monkeypatch.setattr(_small_programs, "QUICK_OPTIONS",
                        {"xla_no_such_option_for_this_test": True})
    monkeypatch.setattr(_small_programs, "enabled", True)
    w = torchlike.ones(2, 3, requires_grad=True)
    (w.exp() + w).sum().backward()
    assert _small_programs.enabled is False and not _quick(fresh_cache)
    # (exp and the sum: 5 roundings)
    np.testing.assert_allclose(np.asarray(w.grad), np.full((2, 3), np.e + 1, np.float32),
                               **float_tol(torch.float32, steps=5))


def test_a_small_compiled_step_and_what_its_trace_reads_compile_quickly(monkeypatch):
    """The seed notebook's graph inside torchlike.compile: its ops on constants are
    computed when the trace reads them (a pending graph's program, inside the trace)
    and the step itself is a program without inputs; both are compiled quickly."""
    from torchlike import _lazy
    monkeypatch.setattr(_lazy, "_program_cache", LRU(1024))

    def seed(lib):
        x = lib.ones(3, 3, requires_grad=True)
        ((x + 2) * (x + 2) * 3).mean().backward()
        return x.grad

    step = torchlike.compile(lambda: seed(torchlike))
    grads = [step(), step()]
    assert _quick(step.programs) and _quick(_lazy._program_cache)
    want = seed(torch).numpy()
    for got in grads:       # (x + 2, twice 3 and the mean's 1/9: 4 roundings)
        np.testing.assert_allclose(np.asarray(got), want, **float_tol(torch.float32, steps=4))
