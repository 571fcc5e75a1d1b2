"""torch.library's schema API (Library, define, impl, impl_abstract) against PyTorch's:
operators declared by a schema string, Python kernels per dispatch key, called through
torch.ops with the schema's argument binding, checks and errors."""
import warnings

import numpy as np
import pytest

import torchlike
from helpers import float_tol, to_numpy as _to_numpy

torch = pytest.importorskip("torch")


def to_numpy(t):
    return np.array(_to_numpy(t))      # (a copy: torch's shares a .grad that changes later)


def _first_line(fn):
    try:
        fn()
    except Exception as e:      # noqa: BLE001 (the class and first line are compared)
        line = str(e).splitlines()[0]
        if isinstance(e, NotImplementedError):      # (PyTorch's goes on to list its
            line = line.split(" backend.")[0]       # dispatch keys: the first sentence)
        return type(e).__name__, line
    return None


def _session(lib, ns):
    """Define, implement and call operators, then the errors of each kind of misuse."""
    seen = []
    library = lib.library.Library(ns, "DEF")
    try:
        seen.append(library.define("scale(Tensor x, float alpha=2.0, *, bool twice=False) "
                                   "-> Tensor"))
        library.impl("scale", lambda x, alpha=2.0, *, twice=False:
                     x * alpha * (2 if twice else 1), "CPU")
        ops = getattr(lib.ops, ns)
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = ops.scale(x, 3.0)
        seen += [to_numpy(y), type(y.grad_fn).__name__, to_numpy(ops.scale(x, twice=True)),
                 to_numpy(ops.scale.default(x)), str(ops.scale.default),
                 repr(ops.scale.default)]
        with warnings.catch_warnings():     # (PyTorch warns: no Autograd kernel)
            warnings.simplefilter("ignore")
            y.sum().backward()
        seen.append(to_numpy(x.grad))
        library.define("pair(Tensor x) -> (Tensor, Tensor)")
        library.impl("pair", lambda x: (x.sin(), x.cos()), "CompositeImplicitAutograd")
        a, b = ops.pair(x)
        (a.sum() + b.sum()).backward()
        seen += [type(a.grad_fn).__name__, to_numpy(x.grad)]
        lib.library.define(f"{ns}::inc", "(Tensor x, int n) -> Tensor")

        @lib.library.impl(f"{ns}::inc", "cpu")
        def inc(x, n):
            return x + n
        seen.append(to_numpy(ops.inc(lib.zeros(2), 3)))
        library.define("nothing(Tensor x) -> Tensor")
        for call in (lambda: ops.scale(x, "a"), lambda: ops.scale(), lambda: ops.scale(x, 1, 2),
                     lambda: ops.inc(x, 2.5), lambda: ops.nothing(x),
                     lambda: library.define("scale(Tensor x) -> Tensor"),
                     lambda: lib.library.Library(ns, "DEF"),
                     lambda: lib.library.Library(ns, "BOGUS"),
                     lambda: lib.library.Library(ns, "IMPL").define("h(Tensor x) -> Tensor")):
            seen.append(_first_line(call))
    finally:
        library._destroy()
    return seen


def test_defined_operators_and_their_errors_as_torchs():
    ours, theirs = _session(torchlike, "tl_define_a"), _session(torch, "tl_define_a")
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        if isinstance(b, np.ndarray):
            # (products by 3 exact; the gradient 3 + cos - sin: two libm results, 4 steps
            # each, of magnitude below the sum's)
            np.testing.assert_allclose(a, b, **float_tol("float32", steps=8))
        else:
            assert a == b
