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


def _prototypes(lib):
    """Functions with the annotations infer_schema turns into schema types, and ones it
    refuses; (function, keyword arguments) pairs, written once for either library."""
    from typing import List, Optional, Sequence, Tuple, Union
    T = lib.Tensor
    Scalar = Union[int, float, bool]

    def plain(x: T, y: float, n: int = 2, flag: bool = False, name: str = "a") -> T: ...

    def lists(x: T, out: T, ys: list[T], w: Optional[T] = None,
              zs: Sequence[Optional[T]] = None) -> tuple[T, T]: ...

    def options(x: T, sizes: Sequence[int], s: Optional[float] = None,
                d: lib.dtype = lib.float32, dev: lib.device = None,
                od: Optional[lib.dtype] = None) -> None: ...

    def scalars(x: T, k: Scalar = 1.5, ks: List[Scalar] = None, os: Optional[Scalar] = None,
                fs: Optional[list[float]] = None, *, scale: float = 1e-5,
                big: float = float("inf"), neg: int = -3, dv: lib.device = lib.device("cpu")
                ) -> int: ...

    def returns(x: T) -> Tuple[T, int, float, bool]: ...

    def one(x: T) -> tuple[T]: ...

    def listed(x: T) -> list[T]: ...

    def untyped(x): ...

    def bad_param(x: T, y: dict) -> T: ...

    def bad_return(x: T) -> dict: ...

    def varargs(x: T, *rest) -> T: ...

    def bad_default(x: T, b: list[bool] = (True,)) -> T: ...

    def no_return(x: T): ...
    return [(plain, dict(mutates_args=())), (plain, dict(mutates_args=(), op_name="myop")),
            (lists, dict(mutates_args=("out", "ys"))), (options, dict(mutates_args="unknown")),
            (scalars, dict(mutates_args=[])), (returns, dict(mutates_args=())),
            (one, dict(mutates_args=())), (listed, dict(mutates_args={})),
            (plain, dict(mutates_args="x")), (plain, dict(mutates_args=["nope"])),
            (plain, dict(mutates_args=["y"])), (untyped, dict(mutates_args=())),
            (bad_param, dict(mutates_args=())), (bad_return, dict(mutates_args=())),
            (varargs, dict(mutates_args=())), (bad_default, dict(mutates_args=())),
            (no_return, dict(mutates_args=()))]


def _schema_or_error(lib, fn, kwargs):
    try:
        return lib.library.infer_schema(fn, **kwargs)
    except ValueError as e:     # (the first sentence: PyTorch's lists its own classes after)
        return "ValueError", str(e).split(" The valid types")[0].split(" Got func")[0]


def test_infer_schema_as_torch():
    ours, theirs = _prototypes(torchlike), _prototypes(torch)
    for (fn, kwargs), (their_fn, _) in zip(ours, theirs):
        assert _schema_or_error(torchlike, fn, kwargs) == \
            _schema_or_error(torch, their_fn, kwargs), fn.__name__
