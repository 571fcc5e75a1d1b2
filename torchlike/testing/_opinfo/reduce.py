"""Oracle samples for reductions, scans, sorting and counting (see core.py)."""
from .core import D, E, L, OpInfo, S, T

_DIM_OUT_OF_RANGE = E(T(2, 3), 2)


def _reduction_samples(ints=True, dtype_kw=True):
    """All dims, one dim, a negative dim with keepdim, a dim tuple, 0-d, empty, ints."""
    out = [S(T(2, 3)), S(T(2, 3, dtype="f64"), -1, keepdim=True),
           S(T(2, 3, 2), (0, 2)), S(T()), S(T(0, 3), dim=0)]
    if ints:
        out.append(S(T(2, 3, dtype="i32")))
        out.append(S(T(4, dtype="b"), 0))
    if dtype_kw:
        out.append(S(T(2, 3), 1, dtype=D("f64")))
    return out


OpInfo("sum", _reduction_samples() + [S(T(2, 3), ())], errors=[_DIM_OUT_OF_RANGE])
OpInfo("nansum", _reduction_samples() + [S(L([1.0, float("nan"), 2.0]))])
OpInfo("mean", _reduction_samples(ints=False), errors=[E(T(3, dtype="i64")), _DIM_OUT_OF_RANGE])
OpInfo("nanmean", _reduction_samples(ints=False) + [S(L([1.0, float("nan"), 2.0]))],
       errors=[E(T(3, dtype="i64"))])
OpInfo("prod", [S(T(2, 3)), S(T(2, 3), 1), S(T(2, 3, dtype="f64"), -1, keepdim=True), S(T()),
                S(T(0, 3), 0), S(T(3, dtype="i32")), S(T(2, 3), 1, dtype=D("f64")),
                S(L([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]]), 1),        # zeros: grad formula
                S(L([1.0, 0.0, 2.0]))])

# max/min: plain (ties share the gradient), with dim (the gradient goes to the index),
# and the binary form
for _name in ("max", "min"):
    OpInfo(_name, [S(T(2, 3)), S(T(2, 3), 1), S(T(2, 3, dtype="f64"), -1, keepdim=True),
                   S(T()), S(T(4, dtype="i64")), S(T(2, 3), dim=0),
                   S(L([1.0, 3.0, 3.0, -1.0, -1.0])), S(L([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]), 1),
                   S(L([1.0, float("nan"), 3.0])), S(T(2, 3), T(3))],
           errors=[E(T(0, 3)), E(T(0, 3), 0), _DIM_OUT_OF_RANGE])
for _name in ("amax", "amin"):
    OpInfo(_name, [S(T(2, 3)), S(T(2, 3), 1), S(T(2, 3, 2, dtype="f64"), (0, -1), keepdim=True),
                   S(T()), S(T(4, dtype="i64")), S(L([1.0, 3.0, 3.0, -1.0, -1.0]))])
OpInfo("aminmax", [S(T(2, 3)), S(T(2, 3), dim=1), S(T(2, 3), dim=-1, keepdim=True),
                   S(T(4, dtype="i64"))])
for _name in ("argmax", "argmin"):
    OpInfo(_name, [S(T(2, 3)), S(T(2, 3), 1), S(T(2, 3), -1, keepdim=True), S(T()),
                   S(L([1.0, 3.0, 3.0, -1.0, -1.0])), S(L([1.0, float("nan"), 3.0])),
                   S(T(4, dtype="i64"))], errors=[E(T(0, 3))])

# statistics
for _name in ("var", "std"):
    OpInfo(_name, [S(T(2, 3)), S(T(2, 3), 1), S(T(2, 3, dtype="f64"), -1, keepdim=True),
                   S(T(2, 3), 1, unbiased=False), S(T(2, 3), (0, 1), correction=0),
                   S(T(2, 3), dim=1, correction=2), S(T(4), unbiased=True),
                   S(T(1)), S(T(2, 3), 0, True, True)],
           errors=[E(T(3, dtype="i64"), msg=False)])
for _name in ("var_mean", "std_mean"):
    OpInfo(_name, [S(T(2, 3)), S(T(2, 3), 1), S(T(2, 3), dim=1, keepdim=True, correction=0),
                   S(T(2, 3, dtype="f64"), 0, unbiased=False)])
OpInfo("logsumexp", [S(T(2, 3), 1), S(T(2, 3, dtype="f64"), (0, 1), keepdim=True), S(T(), 0),
                     S(T(3, dtype="i64"), 0), S(L([[float("-inf"), float("-inf")], [0.0, 1.0]]), 1),
                     S(L([float("inf"), 1.0]), 0)])
OpInfo("norm", [S(T(2, 3)), S(T(2, 3), 1), S(T(2, 3), p=1, dim=1), S(T(2, 3), float("inf")),
                S(T(2, 3, dtype="f64"), 3, dim=-1, keepdim=True), S(T(2, 3), "fro", (0, 1)),
                S(T(3, grad=False), 0), S(L([0.0, 0.0, 0.0])), S(T(2, 3), "nuc")])
OpInfo("count_nonzero", [S(L([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])), S(T(2, 3, dtype="i64"), 1),
                         S(T(2, 3, dtype="b"), (0, 1))])
for _name in ("any", "all"):
    OpInfo(_name, [S(T(2, 3, dtype="b")), S(T(2, 3, dtype="b"), 1),
                   S(T(2, 3, dtype="b"), -1, keepdim=True), S(L([[0.0, 1.0], [0.0, 0.0]]), 0),
                   S(T(3, dtype="u8")), S(T(0, dtype="b")), S(T(2, 3, dtype="i64"), (0, 1))])

# scans
for _name in ("cumsum", "cumprod"):
    OpInfo(_name, [S(T(2, 3), 1), S(T(2, 3, dtype="f64"), -1), S(T(), 0), S(T(3, dtype="i32"), 0),
                   S(T(2, 3), 0, dtype=D("f64")), S(T(0, 3), 1), S(L([1.0, 0.0, 2.0, 0.0]), 0)],
           errors=[E(T(2, 3), 2)])
for _name in ("cummax", "cummin"):
    OpInfo(_name, [S(T(2, 3), 1), S(T(2, 3, dtype="f64"), 0), S(T(), 0),
                   S(L([1.0, 3.0, 3.0, 2.0, 4.0]), 0), S(T(4, dtype="i64"), 0)])
OpInfo("logcumsumexp", [S(T(2, 3), 1), S(T(3, dtype="f64"), 0)])

# order statistics and sorting
OpInfo("sort", [S(T(2, 3, distinct=True)), S(T(2, 3, distinct=True), 0),
                S(T(2, 3, distinct=True), 1, True), S(T(4, distinct=True), descending=True),
                S(T(5, dtype="i64"), stable=True), S(T(), 0),
                S(L([2.0, 1.0, 2.0, 1.0]), stable=True),
                S(L([1.0, float("nan"), 3.0, -1.0]))])
OpInfo("argsort", [S(T(2, 3, distinct=True)), S(T(2, 3, distinct=True), 0, True),
                   S(L([2.0, 1.0, 2.0, 1.0]), stable=True), S(T(4, dtype="i64"), stable=True)])
OpInfo("msort", [S(T(3, 2, distinct=True)), S(T(4, dtype="i64"))])
OpInfo("topk", [S(T(2, 5, distinct=True), 2), S(T(2, 5, distinct=True), 2, 0),
                S(T(5, distinct=True), 3, largest=False), S(T(5, distinct=True), 3, sorted=True),
                S(T(4, dtype="i64", distinct=True), 2)],
       errors=[E(T(3), 4)])
OpInfo("kthvalue", [S(T(2, 5, distinct=True), 2), S(T(2, 5, distinct=True), 1, 0),
                    S(T(5, distinct=True), 3, keepdim=True), S(T(4, dtype="i64", distinct=True), 2)],
       errors=[E(T(3), 4)])
OpInfo("median", [S(T(2, 5, distinct=True)), S(T(2, 5, distinct=True), 1),
                  S(T(4, distinct=True), 0, keepdim=True), S(T(2, 4, dtype="i64", distinct=True), 1),
                  S(L([1.0, float("nan"), 3.0]))])
OpInfo("nanmedian", [S(T(2, 5, distinct=True)), S(T(2, 5, distinct=True), 1),
                     S(L([1.0, float("nan"), 3.0, 2.0])), S(L([[1.0, float("nan")], [2.0, 0.0]]), 1)])
OpInfo("mode", [S(L([1.0, 2.0, 2.0, 3.0, 3.0])), S(L([[1.0, 1.0, 2.0], [3.0, 2.0, 2.0]]), 1),
                S(L([[1, 1, 2], [3, 2, 2]], "i64"), 0)])
OpInfo("quantile", [S(T(2, 5), 0.3), S(T(2, 5), 0.5, dim=1), S(T(5, dtype="f64"), L([0.25, 0.75], "f64")),
                    S(T(2, 5), 0.4, 1, True, interpolation="lower"),
                    S(T(5), 0.4, interpolation="midpoint")])
OpInfo("nanquantile", [S(L([1.0, float("nan"), 3.0, 2.0]), 0.5)])

# counting and uniqueness: integer results, never differentiable
OpInfo("unique", [S(L([3, 1, 2, 3, 1], "i64")), S(L([3.0, 1.0, 2.0, 1.0]), return_counts=True),
                  S(L([3, 1, 2, 3], "i64"), return_inverse=True, return_counts=True),
                  S(L([[1, 2], [1, 2], [0, 5]], "i64"), dim=0),
                  S(L([3, 1, 2, 3], "i64"), sorted=True, return_inverse=True)], grad=False)
OpInfo("unique_consecutive", [S(L([1, 1, 2, 2, 3, 1, 1], "i64")),
                              S(L([1.0, 1.0, 2.0]), return_counts=True, return_inverse=True),
                              S(L([[1, 1], [1, 1], [2, 3]], "i64"), dim=0)], grad=False)
OpInfo("bincount", [S(L([0, 1, 1, 3], "i64")), S(L([0, 1, 1, 3], "i64"), minlength=6),
                    S(L([0, 1, 1, 3], "i64"), L([0.5, 1.0, 2.0, 0.25])),
                    S(L([], "i64"))],
       errors=[E(L([-1, 1], "i64")), E(T(3))], grad=False)
OpInfo("histc", [S(T(20), bins=4, min=-2, max=2), S(T(10, dtype="f64"), 5),
                 S(L([1.0, 2.0, 1.0, 4.0]), bins=4, min=0, max=3)], grad=False,
       errors=[E(T(3, dtype="i64"), msg=False)])

# random sampling: only dtype, shape and grad_fn are compared (statistics in test_ops_random.py)
OpInfo("normal", [S(T(2, 3), T(2, 3, low=0.1)), S(T(3), 2.0), S(0.0, T(3, low=0.1)),
                  S(0.0, 1.0, (2, 3)), S(T(2, 1), T(3, low=0.1))],
       nondeterministic=True, errors=[E(T(2), -1.0)])
OpInfo("bernoulli", [S(T(2, 3, low=0, high=1)), S(T(3, low=0, high=1), 0.3),
                     S(T(3, dtype="f64", low=0, high=1))],
       nondeterministic=True, errors=[E(L([1.5]))])
OpInfo("poisson", [S(T(2, 3, low=0.5, high=4)), S(T(3, dtype="f64", low=1, high=2))],
       nondeterministic=True)
OpInfo("multinomial", [S(L([0.2, 0.3, 0.5]), 2), S(L([[0.2, 0.8], [0.5, 0.5]]), 4, True)],
       nondeterministic=True, errors=[E(L([0.0, 0.0]), 1), E(L([1.0, 1.0]), 3)])
for _name, _args in [("normal_", (0.0, 2.0)), ("uniform_", (-1.0, 1.0)), ("exponential_", (2.0,)),
                     ("geometric_", (0.3,)), ("cauchy_", ()), ("log_normal_", ()),
                     ("bernoulli_", (0.4,)), ("random_", (0, 5))]:
    OpInfo(_name, [S(T(2, 3)), S(T(4, dtype="f64"))],
           op=lambda lib, x, _n=_name, _a=_args: getattr(x.clone(), _n)(*_a),
           covers=("Tensor." + _name,), nondeterministic=True)
OpInfo("copy_", [S(T(2, 3), T(3)), S(T(2, 3), T(2, 3, dtype="f64")), S(T(3, dtype="i64"), T(3))],
       op=lambda lib, x, y: x.clone().copy_(y), covers=("Tensor.copy_",))

# -- invalid calls: PyTorch's exception class (and message, unless msg=False) ---------------
_ERRORS = [
    ("nansum", E(T(2, 3), 2)), ("nansum", E(T(3, dtype="c64"))), ("prod", E(T(2, 3), 2)),
    ("prod", E(T(2, 3), (0, 1), msg=False)), ("amax", E(T(2, 3), 2)), ("amax", E(T(0, 3))),
    ("amin", E(T(2, 3), (0, 0))), ("aminmax", E(T(0, 3))), ("aminmax", E(T(0, 3), dim=0)),
    ("aminmax", E(T(2, 3), dim=2)),
    ("var_mean", E(T(2, 3), 2)), ("std_mean", E(T(3, dtype="i64"))), ("var_mean", E(T(3, dtype="i64"))),
    ("logsumexp", E(T(2, 3), 2)), ("norm", E(T(2, 3), "fro", 2)), ("norm", E(T(3, dtype="i64"))),
    ("norm", E(T(2, 3), "nuc", 0)), ("count_nonzero", E(T(2, 3), 2)),
    ("count_nonzero", E(T(2, 3), (0, 0))), ("any", E(T(2, 3), 2)), ("all", E(T(2, 3, dtype="b"), 5)),
    ("cummax", E(T(2, 3), 2)), ("cummin", E(T(3, dtype="c64"), 0)),
    ("logcumsumexp", E(T(2, 3), 2)), ("logcumsumexp", E(T(3, dtype="i64"), 0)),
    ("sort", E(T(2, 3), 2)), ("sort", E(T(3, dtype="c64"))), ("argsort", E(T(2, 3), -3)),
    ("msort", E(T(3, dtype="c64"))), ("topk", E(T(2, 3), 2, 2)), ("topk", E(T(3), -1)),
    ("topk", E(T(3, dtype="c64"), 1)), ("kthvalue", E(T(3), 0)), ("kthvalue", E(T(2, 3), 1, 2)),
    ("median", E(T(2, 3), 2)), ("median", E(T(3, dtype="c64"))), ("nanmedian", E(T(2, 3), 2)),
    ("mode", E(T(2, 3), 2)), ("mode", E(T(3, dtype="c64"))),
    ("quantile", E(T(5), 1.5)), ("quantile", E(T(5, dtype="i64"), 0.5)),
    ("quantile", E(T(5), 0.5, interpolation="foo")), ("quantile", E(T(5), L([0.5], "f64"))),
    ("quantile", E(T(5), L([[0.5]]))), ("quantile", E(T(5), L([1.5]))), ("quantile", E(T(0), 0.5)),
    ("quantile", E(T(2, 5), 0.5, dim=2)), ("nanquantile", E(T(5), -0.1)),
    ("unique", E(T(2, 3), dim=2)), ("unique_consecutive", E(T(2, 3), dim=3)),
    ("cumsum", E(T(3), msg=False)), ("sum", E(T(2, 3), (0, 0))), ("mean", E(T(2, 3), (1, 1))),
    ("mean", E(T(2, 3), dtype=D("i64"))), ("max", E(T(2, 3), T(4))), ("min", E(T(3, dtype="c64"), 0, msg=False)),
    ("argmax", E(T(2, 3), 2)), ("std", E(T(2, 3), (0, 0))), ("var", E(T(2, 3), 2)),
    ("histc", E(T(5), bins=-1)), ("histc", E(T(5), bins=4, min=2, max=1)),
    ("bincount", E(T(2, 3, dtype="i64"))), ("bincount", E(L([0, 1], "i64"), L([1.0]))),
    ("bincount", E(L([0, 1], "i64"), minlength=-1)),
]
for _name, _error in _ERRORS:
    OpInfo(_name, errors=[_error])

# -- edge shapes and dtypes the tables above leave out --------------------------------------
OpInfo("aminmax", [S(T()), S(T(2, 3, dtype="f64"), dim=0)])
for _name in ("var", "std", "var_mean", "std_mean"):
    OpInfo(_name, [S(T(dtype="f64")), S(T(0, 3), 1)])
OpInfo("norm", [S(T()), S(T(0, 3), 2, 1), S(T(3, dtype="f64"), 1)])
OpInfo("count_nonzero", [S(T()), S(T(0, 3), 0), S(T(2, 3, dtype="f64"), -1)])
for _name in ("any", "all"):
    OpInfo(_name, [S(T()), S(T(2, 3, dtype="f64"), 1)])
OpInfo("argmax", [S(T(2, 3, dtype="f64"), 0)])
OpInfo("logsumexp", [S(T(0, 3), 1)])
# ties: which of equal elements receives the gradient (PyTorch's choice)
OpInfo("topk", [S(L([1.0, 3.0, 3.0, 2.0]), 2), S(L([[2.0, 2.0, 1.0]]), 1, largest=False),
                S(T(3, 4, dtype="f64", distinct=True), 2, -2), S(T(0, 3), 0)])
# (not kthvalue: which tied index PyTorch returns depends on its quickselect's pivots)
OpInfo("kthvalue", [S(T(3, 4, dtype="f64", distinct=True), 2, 0)])
OpInfo("median", [S(L([1.0, 3.0, 3.0, 2.0])), S(L([[2.0, 2.0, 1.0], [0.0, 5.0, 5.0]]), 1)])
OpInfo("sort", [S(L([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]]), 1, True),
                S(T(0, 3), 0), S(T(2, 3, dtype="f64", distinct=True), -2)])
OpInfo("argsort", [S(T(), 0), S(T(3, dtype="f64", distinct=True), descending=True)])
OpInfo("cummax", [S(T(0, 3), 1)])
OpInfo("cumsum", [S(T(2, 3, dtype="b"), 1)])
OpInfo("quantile", [S(T(2, 5, dtype="f64"), 0.25, -1)])
OpInfo("mode", [S(T(2, 4, dtype="f64"), -1, True)])

# in-place samplers: bad parameters
for _name, _args in [("normal_", (0.0, -1.0)), ("uniform_", (1.0, 0.0)), ("exponential_", (-1.0,)),
                     ("geometric_", (1.5,)), ("bernoulli_", (1.5,)), ("random_", (5, 2))]:
    OpInfo(_name + " (bad parameters)", errors=[E(T(3))],
           op=lambda lib, x, _n=_name, _a=_args: getattr(x.clone(), _n)(*_a))
OpInfo("poisson", errors=[E(T(3, dtype="i64"))])
