"""In-place ops against real torch: values, dtypes, the version counter shared by all
aliases (base, views, detach()), autograd history, random fills, and that a failing
in-place op changes nothing (values and _version)."""
import warnings

import numpy as np
import pytest

import torchlike
from helpers import assert_raises_same, assert_same, run_both, torch

pytestmark = pytest.mark.usefixtures("oracle")


INPLACE = {
    "add_": lambda lib, x: x.add_(2),
    "add_tensor": lambda lib, x: x.add_(lib.tensor([1.0, 2.0, 3.0])),
    "add_alpha": lambda lib, x: x.add_(lib.ones(3), alpha=-2),
    "sub_": lambda lib, x: x.sub_(1.5),
    "mul_": lambda lib, x: x.mul_(-3),
    "mul_tensor_bcast": lambda lib, x: x.mul_(lib.tensor(2.0)),
    "div_": lambda lib, x: x.div_(4),
    "div_floor": lambda lib, x: x.div_(3, rounding_mode="floor"),
    "pow_": lambda lib, x: x.pow_(2),
    "neg_": lambda lib, x: x.neg_(),
    "abs_": lambda lib, x: x.abs_(),
    "clamp_": lambda lib, x: x.clamp_(-1, 1),
    "clamp_min": lambda lib, x: x.clamp_(min=0),
    "zero_": lambda lib, x: x.zero_(),
    "fill_": lambda lib, x: x.fill_(7),
    "fill_tensor": lambda lib, x: x.fill_(lib.tensor(3.5)),
    "copy_": lambda lib, x: x.copy_(lib.tensor([9.0, 8.0, 7.0])),
    "copy_bcast": lambda lib, x: x.copy_(lib.tensor([4.0])),
    "copy_int": lambda lib, x: x.copy_(lib.tensor([1, 2, 3])),
    "exp_": lambda lib, x: x.exp_(),
    "sqrt_abs": lambda lib, x: x.abs_().sqrt_(),
    "iadd": lambda lib, x: x.__iadd__(1),
    "isub": lambda lib, x: x.__isub__(lib.ones(3)),
    "imul": lambda lib, x: x.__imul__(2.5),
    "itruediv": lambda lib, x: x.__itruediv__(2),
    "ipow": lambda lib, x: x.__ipow__(2),
    "ifloordiv": lambda lib, x: x.__ifloordiv__(2),
    "imod": lambda lib, x: x.__imod__(2),
    "chain": lambda lib, x: x.add_(1).mul_(2).sub_(3),
}




def _source(lib):
    return lib.tensor([-1.5, 0.0, 2.5])


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_values_identity_and_version(name):
    def fn(lib):
        x = _source(lib)
        out = INPLACE[name](lib, x)
        return x, out is x, x._version
    ours, theirs = run_both(fn)
    assert_same(ours[0], theirs[0])
    assert ours[1:] == theirs[1:]


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_bumps_version_of_every_alias(name):
    def fn(lib):
        base = lib.zeros(2, 3)
        base[0] = _source(lib)
        row = base[0]
        flat = base.view(-1)
        det = base.detach()
        col = base[:, 1]
        INPLACE[name](lib, row)
        return (base, row, flat, det, col,
                [t._version for t in (base, row, flat, det, col)])
    ours, theirs = run_both(fn)
    assert_same(list(ours[:5]), list(theirs[:5]))
    assert ours[5] == theirs[5]


@pytest.mark.parametrize("name", [n for n in INPLACE if n not in ("fill_", "zero_",
                                                                  "fill_tensor")])
def test_augmented_assignment_keeps_identity(name):
    """`x += 1` rebinds x to the very same tensor object."""
    ops = {"iadd": "+=", "isub": "-=", "imul": "*=", "itruediv": "/=", "ipow": "**=",
           "ifloordiv": "//=", "imod": "%="}
    if name not in ops:
        return

    def fn(lib):
        x = _source(lib)
        alias = x
        scope = {"x": x, "lib": lib}
        exec(f"x {ops[name]} 2", scope)
        return scope["x"], scope["x"] is alias, alias._version
    ours, theirs = run_both(fn)
    assert_same(ours[0], theirs[0])
    assert ours[1:] == theirs[1:]


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/=", "//=", "%=", "**=", "&=", "|=", "^="])
@pytest.mark.parametrize("dtype", ["int64", "float32", "bool", "uint8"])
@pytest.mark.parametrize("other", ["int", "float", "tensor_float"])
def test_augmented_dtype_rules(op, dtype, other):
    """In-place results keep self's dtype; results that can't be cast back are errors."""
    def fn(lib):
        x = lib.tensor([3, 1, 2], dtype=getattr(lib, dtype)) if dtype != "bool" \
            else lib.tensor([True, False, True])
        y = {"int": 2, "float": 1.5, "tensor_float": lib.tensor([1.5, 2.0, 3.0]),
             "tensor_int": lib.tensor([1, 2, 3])}[other]
        scope = {"x": x, "y": y}
        exec(f"x {op} y", scope)
        return scope["x"], x._version
    try:
        theirs = fn(torch)
    except Exception:  # noqa: BLE001
        assert_raises_same(fn)
        return
    ours = fn(torchlike)
    assert_same(ours[0], theirs[0])
    assert ours[1] == theirs[1]


@pytest.mark.parametrize("name", ["add_", "mul_tensor_bcast", "div_", "pow_", "neg_", "clamp_",
                                  "exp_", "fill_tensor", "zero_", "iadd", "copy_"])
def test_inplace_on_nonleaf_autograd(name):
    def fn(lib):
        a = lib.tensor([-1.5, 0.5, 2.5], requires_grad=True)
        x = a * 1
        INPLACE[name](lib, x)
        (x * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        return x, a.grad, x._version
    ours, theirs = run_both(fn)
    assert_same(list(ours[:2]), list(theirs[:2]))
    assert ours[2] == theirs[2]


@pytest.mark.parametrize("name", ["add_", "mul_", "clamp_", "copy_", "fill_", "zero_"])
def test_inplace_on_view_of_nonleaf_autograd(name):
    def fn(lib):
        a = lib.arange(6.0, requires_grad=True)
        x = a * 2
        v = x[1:4]
        INPLACE[name](lib, v)
        x.pow(2).sum().backward()
        return x, v, a.grad, x._version
    ours, theirs = run_both(fn)
    assert_same(list(ours[:3]), list(theirs[:3]), check_grad_fn=False)
    assert ours[0].grad_fn.name() == theirs[0].grad_fn.name()
    assert ours[3] == theirs[3]


def test_inplace_under_no_grad_on_leaf():
    def fn(lib):
        w = lib.ones(3, requires_grad=True)
        with lib.no_grad():
            w.mul_(2)
            w[0] = 5.0
            w.add_(lib.ones(3))
        return w, w._version, w.is_leaf
    ours, theirs = run_both(fn)
    assert_same(ours[0], theirs[0])
    assert ours[1:] == theirs[1:]


@pytest.mark.parametrize("fn", [
    lambda lib: lib.ones(3, requires_grad=True).add_(1),
    lambda lib: lib.ones(3, requires_grad=True)[0].add_(1),
    lambda lib: lib.ones(3, requires_grad=True).zero_(),
    lambda lib: lib.ones(3, requires_grad=True).uniform_(),
], ids=lambda f: None)
def test_inplace_on_leaf_requiring_grad_errors(fn):
    assert_raises_same(fn)


def test_saved_tensor_modified_error():
    def fn(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        x = a * 1
        y = x * x           # saves x
        x.add_(1)
        y.sum().backward()
    assert_raises_same(fn)


# -- failing in-place ops leave everything unchanged -------------------------------------
FAILING = [
    lambda lib, x: x.add_(lib.ones(4)),
    lambda lib, x: x.mul_(lib.ones(2, 3)),
    lambda lib, x: x.copy_(lib.ones(2)),
    lambda lib, x: x.int().add_(1.5) if False else lib.zeros(3, dtype=lib.int64).add_(x),
    lambda lib, x: x.fill_(lib.ones(2)),
    lambda lib, x: x.clamp_(),
    lambda lib, x: x.view(3, 1).add_(lib.ones(3, 2)),
    lambda lib, x: x.div_(lib.tensor([1.0, 2.0])),
    lambda lib, x: x.pow_(lib.ones(2)),
    lambda lib, x: x.expand(2, 3).add_(1),
    lambda lib, x: x.uniform_(3, 2),
    lambda lib, x: x.normal_(0, -1),
    lambda lib, x: x.bernoulli_(2.0),
    lambda lib, x: x.random_(5, 1),
    lambda lib, x: x.exponential_(-1),
    lambda lib, x: x.__iadd__(lib.ones(2)),
]


@pytest.mark.parametrize("fn", FAILING, ids=lambda f: None)
def test_failing_inplace_changes_nothing(fn):
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0])
        v = x[:]
        try:
            fn(lib, v)
        finally:
            state.append((x.tolist(), x._version, v._version))
    state = []
    assert_raises_same(run)
    assert state[0] == state[1], state


def test_failing_int_inplace_with_float_result():
    def fn(lib):
        x = lib.tensor([1, 2, 3])
        try:
            x.div_(2)
        finally:
            state.append((x.tolist(), x._version))
    state = []
    assert_raises_same(fn)
    assert state[0] == state[1]


# -- random in-place fills ----------------------------------------------------------------
RANDOM_FILLS = {
    "uniform_": (lambda x: x.uniform_(), (0.0, 1.0)),
    "uniform_range": (lambda x: x.uniform_(-2, 3), (-2.0, 3.0)),
    "normal_": (lambda x: x.normal_(), None),
    "normal_args": (lambda x: x.normal_(5.0, 0.1), (4.0, 6.0)),
    "bernoulli_": (lambda x: x.bernoulli_(), (0.0, 1.0)),
    "bernoulli_p": (lambda x: x.bernoulli_(0.2), (0.0, 1.0)),
    "exponential_": (lambda x: x.exponential_(), (0.0, np.inf)),
    "random_to": (lambda x: x.random_(5), (0.0, 4.0)),
    "random_range": (lambda x: x.random_(3, 7), (3.0, 6.0)),
    "random_": (lambda x: x.random_(), (0.0, 2.0 ** 24)),
    "cauchy_": (lambda x: x.cauchy_(), None),
    "log_normal_": (lambda x: x.log_normal_(), (0.0, np.inf)),
    "geometric_": (lambda x: x.geometric_(0.5), (1.0, np.inf)),
}


@pytest.mark.parametrize("name", list(RANDOM_FILLS))
def test_random_fills(name):
    fill, bounds = RANDOM_FILLS[name]

    def fn(lib):
        x = lib.zeros(200)
        out = fill(x)
        return out is x, str(x.dtype), tuple(x.shape), x._version
    ours, theirs = run_both(fn)
    assert ours == theirs
    x = torchlike.zeros(200)
    values = fill(x).numpy()
    if bounds is not None:
        assert values.min() >= bounds[0] and values.max() <= bounds[1]
    assert len(np.unique(values)) > 1


@pytest.mark.parametrize("name", ["uniform_", "normal_", "bernoulli_p", "random_range"])
def test_random_fill_through_view_and_grad_fn(name):
    fill, _ = RANDOM_FILLS[name]

    def fn(lib):
        a = lib.ones(4, requires_grad=True)
        x = a * 1
        fill(x)
        b = lib.zeros(2, 3)
        fill(b[1])
        x.sum().backward()
        return (x.grad_fn.name(), a.grad.tolist(), b[0].tolist(), b._version,
                bool((b[1] != 0).any()) or name.startswith("bernoulli"))
    ours, theirs = run_both(fn)
    assert ours == theirs


def test_random_fill_dtypes():
    def fn(lib):
        return [str(lib.zeros(3, dtype=getattr(lib, d)).uniform_().dtype)
                for d in ("float16", "bfloat16", "float64", "complex64")] + [
            str(lib.zeros(3, dtype=getattr(lib, d)).bernoulli_().dtype)
            for d in ("int64", "bool", "uint8")] + [
            str(lib.zeros(3, dtype=getattr(lib, d)).random_(0, 2).dtype)
            for d in ("int8", "int32", "bool")]
    ours, theirs = run_both(fn)
    assert ours == theirs
    vals = torchlike.zeros(100, dtype=torchlike.int8).random_().numpy()
    assert vals.min() >= 0 and vals.max() <= 127


@pytest.mark.parametrize("fn", [
    lambda lib: lib.zeros(3, dtype=lib.int64).uniform_(),
    lambda lib: lib.zeros(3, dtype=lib.int64).normal_(),
    lambda lib: lib.zeros(3, dtype=lib.bool).uniform_(),
    lambda lib: lib.zeros(3).uniform_(2, 1),
    lambda lib: lib.zeros(3).normal_(0, -1),
    lambda lib: lib.zeros(3).bernoulli_(1.5),
    lambda lib: lib.zeros(3).exponential_(0),
    lambda lib: lib.zeros(3).random_(5, 3),
    lambda lib: lib.bernoulli(lib.full((3,), 1.5)),
    lambda lib: lib.multinomial(lib.tensor([0.2, 0.8]), 3),
], ids=lambda f: None)
def test_random_errors(fn):
    assert_raises_same(fn)


def test_random_fills_reproducible_with_seed():
    for name in ("uniform_", "normal_", "bernoulli_", "random_range", "exponential_"):
        fill, _ = RANDOM_FILLS[name]
        torchlike.manual_seed(11)
        a = fill(torchlike.zeros(50)).numpy()
        torchlike.manual_seed(11)
        b = fill(torchlike.zeros(50)).numpy()
        assert np.array_equal(a, b), name
        g = torchlike.Generator().manual_seed(3)
        c = torchlike.zeros(50).uniform_(generator=g).numpy()
        d = torchlike.zeros(50).uniform_(generator=torchlike.Generator().manual_seed(3)).numpy()
        assert np.array_equal(c, d)


def test_functional_samplers():
    def fn(lib):
        p = lib.full((2, 3), 0.5, dtype=lib.float64)
        return [tuple(t.shape) + (str(t.dtype),) for t in (
            lib.bernoulli(p), lib.bernoulli(p, 0.2), p.bernoulli(),
            lib.normal(0.0, 1.0, (2, 3)), lib.normal(lib.zeros(3), 1.0),
            lib.normal(lib.zeros(3), lib.ones(3)), lib.normal(0.0, lib.ones(2, 2)),
            lib.multinomial(lib.tensor([0.2, 0.8]), 3, True),
            lib.multinomial(lib.tensor([[0.2, 0.5, 0.3], [1.0, 1.0, 1.0]]), 2))]
    ours, theirs = run_both(fn)
    assert ours == theirs
    draws = torchlike.multinomial(torchlike.tensor([0.0, 1.0, 0.0]), 5, True).tolist()
    assert draws == [1] * 5
    perm = torchlike.multinomial(torchlike.tensor([1.0, 1.0, 1.0]), 3).tolist()
    assert sorted(perm) == [0, 1, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert torchlike.bernoulli(torchlike.tensor([0.0, 1.0])).tolist() == [0.0, 1.0]
