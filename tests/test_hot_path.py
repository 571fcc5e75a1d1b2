"""The per-op fast paths (issue 8 item 3) keep PyTorch's behaviour: thread-local modes
read from class-level defaults, the binary-op operand shortcuts, the shape cache's
recency-free lookup."""
import threading

import numpy as np
import pytest
import torch

import torchlike
from torchlike import _caches


def _in_new_thread(lib):
    """Grad mode, inference mode and the default dtype as a fresh thread sees them while
    the calling thread has all three changed."""
    seen = {}

    def worker():
        seen["grad"] = lib.is_grad_enabled()
        seen["inference"] = lib.is_inference_mode_enabled()
        seen["dtype"] = str(lib.get_default_dtype())
        seen["result"] = str((lib.ones(2) * 0.5).dtype)
    old = lib.get_default_dtype()
    lib.set_default_dtype(lib.float64)
    try:
        with lib.inference_mode(), lib.no_grad():
            t = threading.Thread(target=worker)
            t.start()
            t.join()
            seen["caller"] = (lib.is_grad_enabled(), lib.is_inference_mode_enabled(),
                              str(lib.get_default_dtype()))
    finally:
        lib.set_default_dtype(old)
    return seen


def test_modes_and_default_dtype_are_per_thread():
    assert _in_new_thread(torchlike) == _in_new_thread(torch)


@pytest.mark.parametrize("other", [2, True, 1.5, 1 + 2j, np.float64(0.25), np.int64(3)],
                         ids=["int", "bool", "float", "complex", "np.float64", "np.int64"])
def test_binary_op_with_python_and_numpy_scalars(other):
    for make in (lambda lib: lib.arange(4, dtype=lib.int32),
                 lambda lib: lib.ones(3, requires_grad=True)):
        expected = make(torch) * other
        got = make(torchlike) * other
        assert str(got.dtype) == str(expected.dtype)
        np.testing.assert_allclose(np.asarray(got.detach()), expected.detach().numpy())
        assert type(got.grad_fn).__name__ == type(expected.grad_fn).__name__


def test_shapes_that_do_not_broadcast_raise_torchs_error():
    with pytest.raises(RuntimeError) as expected:
        torch.ones(2, 3) + torch.ones(4)
    with pytest.raises(RuntimeError) as got:
        torchlike.ones(2, 3) + torchlike.ones(4)
    assert str(got.value) == str(expected.value)


def test_lru_peek_leaves_recency_alone():
    cache = _caches.LRU(2)
    cache["a"] = 1
    cache["b"] = 2
    assert cache.peek("a") == 1 and cache.peek("z") is None
    cache["c"] = 3                     # "a" was only peeked at: it is still the oldest
    assert list(cache) == ["b", "c"]
