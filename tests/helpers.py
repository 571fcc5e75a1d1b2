"""Compare torchlike results with real torch's (values, dtype, shape, grad_fn, grads)."""
import numpy as np

import torchlike

try:
    import torch
except ImportError:
    torch = None


def to_numpy(t):
    if isinstance(t, torchlike.Tensor):
        t = t.detach()
        return np.asarray(t.float() if t.dtype is torchlike.bfloat16 else t)
    t = t.detach()
    return (t.float() if t.dtype == torch.bfloat16 else t).numpy()


def dtype_name(d):
    return str(d).replace("torch.", "")


def assert_same(ours, theirs, *, atol=1e-6, rtol=1e-5, check_grad_fn=True):
    """`ours` (torchlike) matches `theirs` (torch): type, dtype, shape, values, grad_fn."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs), (ours, theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b, atol=atol, rtol=rtol, check_grad_fn=check_grad_fn)
        return
    if not isinstance(theirs, torch.Tensor):
        assert not isinstance(ours, torchlike.Tensor), (ours, theirs)
        if isinstance(theirs, float):
            np.testing.assert_allclose(ours, theirs, atol=atol, rtol=rtol)
        else:
            assert ours == theirs, (ours, theirs)
        return
    assert isinstance(ours, torchlike.Tensor), type(ours)
    assert dtype_name(ours.dtype) == dtype_name(theirs.dtype), (ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape), (ours.shape, theirs.shape)
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), atol=atol, rtol=rtol,
                               equal_nan=True)
    assert ours.requires_grad == theirs.requires_grad
    if check_grad_fn:
        ours_fn = None if ours.grad_fn is None else ours.grad_fn.name()
        theirs_fn = None if theirs.grad_fn is None else theirs.grad_fn.name()
        assert ours_fn == theirs_fn, (ours_fn, theirs_fn)


def run_both(fn, *args, **kwargs):
    """fn(lib, ...) under torchlike and torch: (ours, theirs)."""
    return fn(torchlike, *args, **kwargs), fn(torch, *args, **kwargs)


def check(fn, **tolerances):
    """fn(lib) gives the same result under both libraries, or raises the same error."""
    try:
        theirs = fn(torch)
    except Exception:  # noqa: BLE001 - whatever torch raises, we must raise too
        assert_raises_same(fn)
        return
    assert_same(fn(torchlike), theirs, **tolerances)


def assert_raises_same(fn):
    """fn(lib) raises the same exception class and message under both libraries."""
    try:
        fn(torch)
    except Exception as e:  # noqa: BLE001 - we compare whatever torch raises
        expected = e
    else:
        raise AssertionError("torch did not raise")
    try:
        fn(torchlike)
    except Exception as e:  # noqa: BLE001
        got = e
    else:
        raise AssertionError(f"torchlike did not raise; torch raised {expected!r}")
    assert type(got).__name__ == type(expected).__name__, (got, expected)
    assert str(got) == str(expected), (str(got), str(expected))
