"""Tensor.numpy() and from_numpy share memory, as in PyTorch: each scenario runs under
torch and torchlike and what the array and the tensor see is compared."""
import gc
import warnings

import numpy as np
import pytest

import torchlike
from torchlike._storage import Storage


def _numpy_then_tensor_writes(lib):
    t = lib.arange(4.0)
    a = t.numpy()
    seen = [a.tolist()]
    t.add_(1)
    seen.append(a.tolist())
    middle = t[1:3]                  # a view whose value was read before numpy writes
    seen.append(middle.tolist())
    a[1] = -5.0
    a *= 2
    seen += [t.tolist(), middle.tolist(), (t * 10).tolist()]
    t[0] = 7.0
    seen.append(a.tolist())
    return seen


def _from_numpy_both_ways(lib):
    a = np.zeros((2, 3), dtype=np.float32)
    t = lib.from_numpy(a)
    a += 1
    seen = [t.tolist(), str(t.dtype), (t + 1).tolist()]
    t.mul_(3)
    t[1, 2] = -1
    seen.append(a.tolist())
    b = np.arange(6, dtype=np.int64)
    u = lib.as_tensor(b)             # as_tensor of an ndarray shares as well
    b[0] = 100
    u.add_(1)
    seen += [u.tolist(), b.tolist()]
    strided = np.arange(12.0).reshape(3, 4)[:, ::2]
    s = lib.from_numpy(strided)
    strided[0, 0] = -1
    s.add_(1)
    seen += [s.tolist(), strided.tolist()]
    return seen


def _views_to_numpy(lib):
    w = lib.ones(2, 3)
    wt = w.t().numpy()
    row = w[1].numpy()
    seen = [wt.shape, wt.strides, row.strides]
    w[0, 1] = 7.0
    row[:] = 9.0
    seen += [wt.tolist(), w.tolist()]
    return seen


def _optimizer_updates_the_array(lib):
    values = np.array([1.0, -2.0, 3.0], dtype=np.float32)
    w = lib.nn.Parameter(lib.from_numpy(values))
    opt = lib.optim.SGD([w], lr=0.5, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    return [values.tolist()]


@pytest.mark.parametrize("scenario", [_numpy_then_tensor_writes, _from_numpy_both_ways,
                                      _views_to_numpy, _optimizer_updates_the_array],
                         ids=lambda f: f.__name__.strip("_"))
def test_memory_is_shared_like_torch(oracle, scenario):
    assert scenario(torchlike) == scenario(oracle)


def test_dropping_the_array_makes_the_storage_ordinary_again():
    """Sharing costs a copy per use; once no array refers to the buffer numpy() made,
    the storage is an ordinary one again, holding numpy's last write."""
    t = torchlike.zeros(3)
    a = t.numpy()
    a[0] = 4.0
    del a
    gc.collect()
    assert t.tolist() == [4.0, 0.0, 0.0]
    assert type(t._storage) is Storage
    t.add_(1)
    assert t.tolist() == [5.0, 1.0, 1.0]
    v = t[1:].numpy()                   # an array viewing part of the buffer keeps it
    del t
    gc.collect()
    assert v.tolist() == [1.0, 1.0]


def test_arrays_from_numpy_refuses_like_torch(oracle):
    for bad in (np.arange(4.0)[::-1], np.arange(3, dtype=">f4")):
        with pytest.raises(ValueError) as theirs:
            oracle.from_numpy(bad)
        with pytest.raises(ValueError, match=f"^{__import__('re').escape(str(theirs.value))}$"):
            torchlike.from_numpy(bad)
    frozen = np.arange(3.0)
    frozen.flags.writeable = False
    messages = {}
    for lib in (oracle, torchlike):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t = lib.from_numpy(frozen)
        messages[lib.__name__] = [str(w.message).split(" (Triggered")[0] for w in caught
                                  if w.category is UserWarning]
        assert t.tolist() == [0.0, 1.0, 2.0]
    assert messages["torchlike"] == messages["torch"] or not messages["torch"]


def _read_requiring_grad(lib):
    """numpy() of a tensor that requires grad: refused only while grad mode is on (an
    autograd.Function's forward, or code under no_grad, reads it; torchlike refused it
    everywhere)."""
    w = lib.ones(2, requires_grad=True)
    seen = []
    for mode in (lib.no_grad, lib.inference_mode, lib.enable_grad):
        with mode():
            for read in (lambda: w.numpy(), lambda: np.asarray(w), lambda: (w * 2).numpy()):
                try:
                    seen.append(read().tolist())
                except RuntimeError as error:
                    seen.append(str(error))
    return seen


def test_numpy_of_a_tensor_requiring_grad_like_torch(oracle):
    assert _read_requiring_grad(torchlike) == _read_requiring_grad(oracle)
