"""The per-op fast paths (issue 8 item 3) keep PyTorch's behaviour: thread-local modes
read from class-level defaults, the binary-op operand shortcuts, the shape cache's
recency-free lookup."""
import gc
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


def _tracked_objects_per_op(ops):
    """GC-tracked objects that a chain of `ops` recorded ops (all still pending) keeps
    alive, per op."""
    x = torchlike.ones(4, requires_grad=True)

    def chain():
        y = x
        for _ in range(ops):
            y = y * 1.001
        return y
    chain()                          # (caches warm: they would count as the chain's own)
    gc.collect()                     # (also untracks tuples of atomic values)
    before = len(gc.get_objects())
    y = chain()
    gc.collect()
    per_op = (len(gc.get_objects()) - before) / ops
    del y
    return per_op


def test_a_recorded_op_keeps_few_objects_for_the_garbage_collector():
    # Every object a recorded op keeps alive is walked by Python's cyclic collector until
    # backward frees the graph (torch's graph is C++: it pays nothing of the kind). What a
    # node needs: itself, its edges tuple and the edge to the previous node, its input
    # tuple; what a pending output needs: its Deferred (its own call, as a single output)
    # and the call's input tuple: 6 (a chain shorter than _lazy.MAX_DEPTH stays pending:
    # no compile here; a few objects of the process come and go meanwhile). Shapes,
    # dtypes, out_avals and version tuples are shared or untracked.
    assert _tracked_objects_per_op(80) <= 6.25     # (10 before issue 8's pass on objects)


def test_size_takes_no_attributes():
    # a Size is shared by the tensors of one shape, so it must not carry attributes; torch's
    # does not either
    for lib in (torch, torchlike):
        with pytest.raises(AttributeError):
            lib.ones(2, 3).shape.note = 1
