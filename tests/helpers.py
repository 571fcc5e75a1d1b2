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


# -- tolerances -----------------------------------------------------------------------
# Two libraries computing the same float expression agree only as far as rounding lets
# them, and where they round depends on the machine: XLA fuses a product into the next
# add (one FMA, one rounding instead of two) when the CPU has FMA, and turns x / c into
# x * (1/c); PyTorch's kernels are vectorized for the CPU at hand (AVX-512, AVX2, NEON or
# none: ATEN_CPU_CAPABILITY), with or without FMA, and split reductions by thread count.
# A tolerance is therefore derived from the computation, never from one machine's result:
#
# * One correctly rounded operation (+ - * / sqrt fma, a cast) errs by at most eps/2
#   relative. A result reached through `steps` roundings is, to first order, within
#   steps * eps/2 of the exact value in each library, so the two differ by at most
#   steps * eps: rtol = steps * eps.
# * Counting steps: a correctly rounded op, or a product + sum that one library fuses,
#   is 1; a libm function (exp, log, tanh, pow, erf, ...) is 4, since XLA's and
#   PyTorch's (SLEEF, glibc) vectorized versions are accurate to a few ulp, not
#   correctly rounded; a sum of n terms is n (any order, any tree); n steps of an
#   iteration with k roundings each is n * k (errors carried from earlier steps pass
#   through averages, square roots and small updates with gain <= 1).
# * Cancellation: a sum of terms larger than the result carries an error relative to
#   the terms, not to the result (Higham's normwise bound). Pass the terms' magnitude
#   as `scale`; atol = rtol * scale. For a whole tensor, the largest |value| stands for
#   the terms (the normwise relative error).
# Bit-exact comparisons remain only where both libraries run the same correctly rounded
# operation once (a cast, one division, a max, a copy).
EPS = {"float64": 2.0 ** -52, "float32": 2.0 ** -23, "float16": 2.0 ** -10,
       "bfloat16": 2.0 ** -7}
EPS["complex128"], EPS["complex64"] = EPS["float64"], EPS["float32"]


def float_tol(dtype, steps=1, scale=0.0):
    """dict(rtol=, atol=) for two libraries' results of a `dtype` computation with
    `steps` rounding steps on each element's path (see the rules above); `scale` is the
    magnitude of the terms that cancel in it (0: no cancellation)."""
    rtol = steps * EPS[dtype_name(dtype)]
    return dict(rtol=rtol, atol=rtol * scale)


def normwise_tol(dtype, steps, desired):
    """float_tol with the largest |value| of `desired` as the scale: a tensor whose
    elements are sums with cancellation (optimizer states, trained weights)."""
    values = np.abs(np.asarray(desired, dtype=np.complex128 if
                               np.iscomplexobj(desired) else np.float64))
    return float_tol(dtype, steps, float(values.max()) if values.size else 0.0)


# assert_same's defaults: rtol 1e-5 is 84 float32 ulps, room for a chain of pointwise
# ops with a few libm functions or a reduction of up to ~80 terms; atol 1e-6 is 8 ulps of
# a value of magnitude 1, for results that cancel to near zero. Float64 results pass
# these easily; a test whose computation is longer passes its own float_tol.
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


def call_counter(monkeypatch, owner, name):
    """A list that grows by one at every call of `owner.name` (a function or method,
    which still runs) while the test runs."""
    calls, real = [], getattr(owner, name)

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(owner, name, counting)
    return calls


def batched_ops_run(monkeypatch):
    """A list that receives the name of every op that rewrites many gradients at once
    (torchlike._ops.batched_inplace.run: clip_grad_norm_, GradScaler.unscale_ ...)
    while the test runs."""
    from torchlike._ops import batched_inplace
    names, run = [], batched_inplace.run

    def naming_run(op, *args):
        names.append(op.name)
        return run(op, *args)
    monkeypatch.setattr(batched_inplace, "run", naming_run)
    return names


def planned_program_sizes(monkeypatch):
    """A list that receives the number of ops of every pending program torchlike plans
    (torchlike._lazy.plan) while the test runs."""
    from torchlike import _lazy
    sizes, plan = [], _lazy.plan

    def counting_plan(roots):
        out = plan(roots)
        sizes.append(len(out[0]))
        return out
    monkeypatch.setattr(_lazy, "plan", counting_plan)
    return sizes
