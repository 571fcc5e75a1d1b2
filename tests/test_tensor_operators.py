"""The core operators a Tensor user touches first, against real torch: arithmetic and
comparisons in both orders with tensors and Python scalars, broadcasting, where,
reductions with dim/keepdim, matmul/@, cat, stack (exhaustive op tests live elsewhere)."""
import operator

import pytest

import torchlike
from helpers import assert_raises_same, assert_same, check, float_tol, run_both, torch

pytestmark = pytest.mark.usefixtures("oracle")


ARITH = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
         "truediv": operator.truediv, "floordiv": operator.floordiv, "mod": operator.mod,
         "pow": operator.pow}
COMPARE = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
           "gt": operator.gt, "ge": operator.ge}


def _float(lib):
    return lib.tensor([[-2.5, 0.5, 3.0], [1.0, -1.0, 2.0]])


def _int(lib):
    return lib.tensor([[-3, 1, 4], [2, -1, 5]])


OPERANDS = {
    "float_t": _float,
    "int_t": _int,
    "row": lambda lib: lib.tensor([1.5, -2.0, 4.0]),
    "col_int": lambda lib: lib.tensor([[2], [3]]),
    "zero_d": lambda lib: lib.tensor(2.0),
    "zero_d_int": lambda lib: lib.tensor(3),
    "int": lambda lib: 3,
    "neg_int": lambda lib: -2,
    "float": lambda lib: 1.5,
    "bool": lambda lib: True,
}


@pytest.mark.parametrize("op", list(ARITH))
@pytest.mark.parametrize("left", ["float_t", "int_t"])
@pytest.mark.parametrize("right", ["float_t", "int_t", "row", "zero_d_int", "int", "neg_int",
                                   "float", "bool"])
def test_arithmetic_both_orders(op, left, right):
    fn = ARITH[op]
    # one op each; pow is exp(y * log(x)) in XLA and its own routine in PyTorch: the
    # libm functions' few ulps, times |y log x| (< 4 here), ~20 roundings; 1e-5 is
    # the default's 84 ulps (+ - * / // % round once or not at all)
    check(lambda lib: fn(OPERANDS[left](lib), OPERANDS[right](lib)), rtol=1e-5)
    check(lambda lib: fn(OPERANDS[right](lib), OPERANDS[left](lib)), rtol=1e-5)


@pytest.mark.parametrize("op", list(COMPARE))
@pytest.mark.parametrize("left", ["float_t", "int_t"])
@pytest.mark.parametrize("right", ["row", "zero_d", "int", "float", "col_int"])
def test_comparisons_both_orders(op, left, right):
    fn = COMPARE[op]
    check(lambda lib: fn(OPERANDS[left](lib), OPERANDS[right](lib)))
    check(lambda lib: fn(OPERANDS[right](lib), OPERANDS[left](lib)))


def test_unary_operators():
    check(lambda lib: [-_float(lib), +_float(lib), abs(_float(lib)), ~_int(lib),
                       ~(_int(lib) > 0), -_int(lib)])


def test_comparison_with_non_tensors():
    def fn(lib):
        x = lib.tensor([1, 2])
        return (x == None, x != None, x == "a", x != [1, 2])  # noqa: E711
    ours, theirs = run_both(fn)
    assert [type(v).__name__ for v in ours] == [type(v).__name__ for v in theirs]
    assert [bool(v) if not hasattr(v, "shape") else v.tolist() for v in ours] == \
        [bool(v) if not hasattr(v, "shape") else v.tolist() for v in theirs]


def test_unsupported_operand_types():
    for fn in (lambda lib: lib.tensor([1.0]) + "a", lambda lib: lib.tensor([1.0]) + None,
               lambda lib: lib.tensor([1.0]) * [2], lambda lib: None < lib.tensor([1])):
        assert_raises_same(fn)
    # str * tensor is str * int (tensor.__index__): torch's quirk, reproduced
    ours, theirs = run_both(lambda lib: "ab" * lib.tensor(2))
    assert ours == theirs


def test_reverse_op_with_list():
    assert_raises_same(lambda lib: [1] - lib.tensor([1]))
    assert_raises_same(lambda lib: [1] / lib.tensor([1.0]))
    assert_raises_same(lambda lib: None ** lib.tensor([1]))


@pytest.mark.parametrize("shapes", [((2, 3), (3,)), ((2, 1), (1, 3)), ((4, 1, 3), (2, 1)),
                                    ((), (2, 2)), ((0, 3), (1, 3)), ((2, 3), (2, 1))],
                         ids=str)
def test_broadcasting(shapes):
    def fn(lib):
        a = lib.arange(float(lib.Size(shapes[0]).numel())).view(shapes[0])
        b = lib.arange(float(lib.Size(shapes[1]).numel())).view(shapes[1]) + 1
        return a + b, a * b, b - a, a / b, a > b
    check(fn)


@pytest.mark.parametrize("shapes", [((2, 3), (2,)), ((2, 3), (3, 2)), ((4, 2), (3, 1, 3))],
                         ids=str)
def test_broadcast_errors(shapes):
    def fn(lib):
        return lib.ones(shapes[0]) + lib.ones(shapes[1])
    assert_raises_same(fn)
    assert_raises_same(lambda lib: lib.ones(shapes[0]) * lib.ones(shapes[1]))


def test_arithmetic_grad_fns_both_orders():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        outs = [x + 1, 1 + x, x - 1, 1 - x, x * 2, 2 * x, x / 2, 2 / x, x ** 2, 2 ** x,
                x + x, x - x, x * x, x / x, x ** x, -x, x @ x, x > 1]
        return outs
    check(fn)


# -- where -----------------------------------------------------------------------------
@pytest.mark.parametrize("case", [
    lambda lib: lib.where(_float(lib) > 0, _float(lib), lib.zeros(1)),
    lambda lib: lib.where(_float(lib) > 0, _float(lib), 0.0),
    lambda lib: lib.where(_float(lib) > 0, 1, 0),
    lambda lib: lib.where(_float(lib) > 0, 1.5, _int(lib)),
    lambda lib: lib.where(_int(lib) > 0, _int(lib), -1),
    lambda lib: lib.where(lib.tensor([True, False, True]), _float(lib), _int(lib)),
    lambda lib: (_float(lib)).where(_float(lib) > 0, -_float(lib)),
    lambda lib: lib.where(_float(lib) > 0),
    lambda lib: lib.where(_float(lib), 1.0, 0.0),
    lambda lib: lib.where(lib.tensor([True, False]), _float(lib), 0.0),
], ids=lambda f: None)
def test_where(case):
    check(case)


def test_where_grad():
    def fn(lib):
        x = lib.tensor([-1.0, 2.0, -3.0], requires_grad=True)
        y = lib.where(x > 0, x * 2, x ** 2)
        y.sum().backward()
        return y, x.grad
    check(fn)


# -- reductions ------------------------------------------------------------------------
REDUCTIONS = {
    "sum": lambda x, **kw: x.sum(**kw),
    "mean": lambda x, **kw: x.mean(**kw),
    "max": lambda x, **kw: x.max(**kw),
    "min": lambda x, **kw: x.min(**kw),
    "argmax": lambda x, **kw: x.argmax(**kw),
    "argmin": lambda x, **kw: x.argmin(**kw),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": 1}, {"dim": -1, "keepdim": True},
                                    {"dim": 0, "keepdim": False}], ids=str)
@pytest.mark.parametrize("source", ["float", "int", "ties"])
def test_reductions(name, kwargs, source):
    def fn(lib):
        x = {"float": _float(lib), "int": _int(lib),
             "ties": lib.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])}[source]
        out = REDUCTIONS[name](x, **kwargs)
        return tuple(out) if isinstance(out, tuple) else out
    check(fn)


def test_reductions_return_named_tuples():
    def fn(lib):
        x = _float(lib)
        m = x.max(dim=1)
        n = lib.min(x, 0, keepdim=True)
        values, indices = m
        return (m.values.tolist(), m.indices.tolist(), values.tolist(), indices.tolist(),
                tuple(n.values.shape), n[1].tolist(), len(m))
    ours, theirs = run_both(fn)
    assert ours == theirs


def test_reductions_tuple_dims_and_functions():
    check(lambda lib: [lib.sum(_float(lib), (0, 1)), lib.mean(_float(lib), dim=(0,)),
                       lib.sum(_int(lib)), lib.max(_float(lib)), lib.argmax(_int(lib)),
                       _float(lib).sum(dim=[1], keepdim=True), lib.sum(_float(lib) > 0)])


def test_reduction_grads():
    def fn(lib):
        x = lib.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]], requires_grad=True)
        outs = [x.sum(), x.mean(1), x.max(), x.max(0).values, x.min(1, keepdim=True)[0]]
        sum(o.sum() for o in outs).backward()
        return outs + [x.grad]
    check(fn)


@pytest.mark.parametrize("fn", [
    lambda lib: _float(lib).sum(2),
    lambda lib: _float(lib).mean(dim=-3),
    lambda lib: _int(lib).mean(),
    lambda lib: lib.zeros(0).max(),
    lambda lib: lib.zeros(0, 3).argmax(0),
    lambda lib: _float(lib).max(dim=5),
], ids=lambda f: None)
def test_reduction_errors(fn):
    assert_raises_same(fn)


# -- matmul ----------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)),
                                    ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
                                    ((5, 2, 3), (5, 3, 4)), ((1, 2, 3), (6, 3, 2)),
                                    ((2, 3), (2, 3)), ((3,), (4,))], ids=str)
def test_matmul(shapes):
    def fn(lib):
        a = lib.arange(float(lib.Size(shapes[0]).numel())).view(shapes[0]) / 7
        b = lib.arange(float(lib.Size(shapes[1]).numel())).view(shapes[1]) / 5 - 1
        return [a @ b, lib.matmul(a, b), a.matmul(b)]
    # dot products of at most 3 terms (the inputs are correctly rounded divisions, equal
    # in both libraries): 4 roundings in any order, relative to sum |a_i b_i|, which is
    # at most 28 times |sum a_i b_i| here (the condition number of these sums)
    check(fn, **float_tol("float32", 4 * 28))


def test_matmul_dtype_mismatch_error():
    assert_raises_same(lambda lib: lib.ones(2, 2) @ lib.ones(2, 2, dtype=lib.float64))


def test_matmul_dtypes_and_grad():
    check(lambda lib: lib.tensor([[1, 2], [3, 4]]) @ lib.tensor([[1], [1]]))
    check(lambda lib: lib.ones(2, 2, dtype=lib.float64) @ lib.ones(2, 2, dtype=lib.float64))
    assert_raises_same(lambda lib: lib.ones(()) @ lib.ones(2))

    def grad(lib):
        a = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        b = lib.tensor([[0.5], [-1.0]], requires_grad=True)
        y = a @ b
        y.sum().backward()
        return y, a.grad, b.grad
    check(grad)


def _graph(grad_fn):
    """The grad_fn graph below `grad_fn`, depth first: (depth, node class name)."""
    names, stack = [], [(grad_fn, 0)]
    while stack:
        node, depth = stack.pop()
        if node is not None:
            names.append((depth, type(node).__name__))
            stack.extend((child, depth + 1) for child, _ in reversed(node.next_functions))
    return names


@pytest.mark.parametrize("make", [
    lambda x: x.reshape(6, 4),                          # contiguous: ViewBackward0
    lambda x: x.transpose(1, 2).reshape(2, 4, 3),       # a view of a non-contiguous input
    lambda x: x.transpose(0, 1).reshape(3, 2, 4),
    lambda x: x[:, :2].reshape(2, 2, 4),
    lambda x: x.transpose(1, 2).reshape(2, 12),         # copies: over CloneBackward0
    lambda x: x[:, :2].reshape(4, 4),
    lambda x: x.expand(2, 2, 3, 4).reshape(4, 3, 4),
], ids=["view", "alias-transposed", "alias-swapped", "alias-sliced", "copy-transposed",
        "copy-sliced", "copy-expanded"])
def test_reshape_records_pytorchs_nodes(make):
    graphs = []
    for lib in (torch, torchlike):
        x = lib.ones(2, 3, 4, requires_grad=True)
        graphs.append(_graph(make(x).grad_fn))
    assert graphs[1] == graphs[0]


# -- cat / stack -----------------------------------------------------------------------
@pytest.mark.parametrize("case", [
    lambda lib: lib.cat([_float(lib), _float(lib)]),
    lambda lib: lib.cat([_float(lib), _float(lib)], dim=1),
    lambda lib: lib.cat((_float(lib), _float(lib)[:1]), 0),
    lambda lib: lib.cat([_float(lib), _int(lib)], dim=-1),
    lambda lib: lib.cat([lib.zeros(0), _float(lib)]),
    lambda lib: lib.cat([_float(lib)]),
    lambda lib: lib.cat([_float(lib), _float(lib)[:, :2]], dim=0),
    lambda lib: lib.cat([]),
    lambda lib: lib.cat([lib.tensor(1.0), lib.tensor(2.0)]),
    lambda lib: lib.cat([_float(lib), lib.ones(3)]),
    lambda lib: lib.cat([_float(lib), _float(lib)], dim=2),
    lambda lib: lib.stack([_float(lib), _float(lib)]),
    lambda lib: lib.stack([_float(lib), _float(lib)], dim=2),
    lambda lib: lib.stack([_float(lib), _float(lib)], -1),
    lambda lib: lib.stack([lib.tensor(1.0), lib.tensor(2)]),
    lambda lib: lib.stack([_float(lib), _float(lib)[:1]]),
    lambda lib: lib.stack([]),
    lambda lib: lib.stack([_float(lib)], dim=3),
], ids=lambda f: None)
def test_cat_stack(case):
    check(case)


def test_cat_stack_grads():
    def fn(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0], requires_grad=True)
        c = lib.cat([a, b, a])
        s = lib.stack([a, a * 2])
        (c * lib.arange(5.0)).sum().backward()
        s.sum().backward()
        return c, s, a.grad, b.grad
    check(fn)


def test_float_division_by_scalar_is_correctly_rounded():
    # XLA would turn x / s into x * (1 / s), 1 ulp off for some elements. Division is
    # correctly rounded in IEEE 754 on every CPU, so the results are bit-equal.
    check(lambda lib: lib.arange(24.0) / 7, atol=0, rtol=0)
    check(lambda lib: lib.arange(24.0).view(4, 6) / lib.tensor(7.0), atol=0, rtol=0)
    check(lambda lib: lib.arange(24.0).view(4, 6) / lib.full((4, 1), 7.0), atol=0, rtol=0)
    check(lambda lib: lib.arange(24.0).div_(7), atol=0, rtol=0)


def test_float_division_by_tensor_is_correctly_rounded():
    check(lambda lib: lib.arange(24.0) / lib.full((24,), 7.0), atol=0, rtol=0)


def test_shift_operators():
    check(lambda lib: [lib.tensor([2, -3]) << 1, lib.tensor([8, -8]) >> 2, 1 << lib.tensor([3]),
                       64 >> lib.tensor([1, 3])])

    def inplace(lib):
        x = lib.tensor([1, 2])
        x <<= 2
        y = x
        y >>= 1
        return x, y is x, x._version
    ours, theirs = run_both(inplace)
    assert_same(ours[0], theirs[0])
    assert ours[1:] == theirs[1:]
    assert_raises_same(lambda lib: lib.tensor([1.5]) << 1)
    assert_raises_same(lambda lib: lib.tensor([1]) << [1])


def test_invert_float_error():
    assert_raises_same(lambda lib: ~lib.tensor([1.5]))


@pytest.mark.parametrize("element", [
    lambda lib: 3, lambda lib: 5, lambda lib: 2.0, lambda lib: lib.tensor([3, 4]),
    lambda lib: lib.tensor([3, 5]), lambda lib: lib.tensor(4), lambda lib: float("nan")])
def test_in_tests_elements_as_pytorch(element):
    # `x in t`: any element of t equal to x, broadcasting (not Python's iteration over rows)
    def contains(lib):
        return element(lib) in lib.tensor([[1, 2], [3, 4]])
    assert contains(torchlike) is contains(torch)


@pytest.mark.parametrize("element", [lambda lib: "a", lambda lib: [1],
                                     lambda lib: lib.tensor([1, 2, 3])])
def test_in_rejects_what_pytorch_rejects(element):
    assert_raises_same(lambda lib: element(lib) in lib.tensor([1, 2]))
