"""Differential bad-input fuzz: common functions called with valid and invalid arguments
under real torch and torchlike. Both must succeed with the same values and dtypes, or
raise the same exception class with the same message prefix (so no JAX/XLA error, no
KeyError/TypeError leaking from inside torchlike, and no silent acceptance).

Each family lists candidate values per argument (valid and invalid ones); a seeded
generator draws combinations, so the calls are the same on every run.
"""
import itertools
import random
import warnings

import numpy as np
import pytest

import torchlike
import torchlike.linalg  # noqa: F401  (until torchlike/__init__.py imports the namespace)
from helpers import torch

pytestmark = pytest.mark.usefixtures("oracle")

SEED = 20261128
CASES_PER_FAMILY = 36
PREFIX = 48          # characters of torch's message that must match


# -- arguments that become a tensor (or module, dataset ...) of each library ---------------
class T:
    """A tensor spec: shape, dtype name and how to fill it; built per library."""

    def __init__(self, shape, dtype="float32", values=None, requires_grad=False):
        self.shape, self.dtype, self.values = tuple(shape), dtype, values
        self.requires_grad = requires_grad

    def array(self):
        if self.values is not None:
            return np.asarray(self.values).reshape(self.shape)
        n = int(np.prod(self.shape))
        rng = np.random.default_rng(n * 31 + len(self.shape))
        if self.dtype == "bool":
            return rng.random(self.shape) > 0.5
        if self.dtype.startswith(("int", "uint")):
            return rng.integers(0, 3, self.shape)
        return rng.uniform(0.05, 0.95, self.shape)     # inside (0, 1): valid probabilities

    def build(self, lib):
        t = lib.tensor(self.array(), dtype=getattr(lib, self.dtype))
        return t.requires_grad_() if self.requires_grad else t

    def __repr__(self):
        v = "" if self.values is None else f", {np.asarray(self.values).tolist()}"
        g = ", grad" if self.requires_grad else ""
        return f"T{self.shape}{'' if self.dtype == 'float32' else ', ' + self.dtype}{v}{g}"


class Dtype:
    def __init__(self, name):
        self.name = name

    def build(self, lib):
        return getattr(lib, self.name)

    def __repr__(self):
        return self.name


def build(x, lib):
    if isinstance(x, (T, Dtype)):
        return x.build(lib)
    if isinstance(x, list):
        return [build(v, lib) for v in x]
    if isinstance(x, tuple):
        return tuple(build(v, lib) for v in x)
    return x


F32, F64, I64, I32, U8, BOOL, F16 = (Dtype(n) for n in (
    "float32", "float64", "int64", "int32", "uint8", "bool", "float16"))
X = T((2, 3))
X3 = T((2, 3, 4))
X4 = T((2, 3, 5, 5))
V3 = T((3,))
S = T(())
E = T((0,))
E2 = T((0, 3))
XI = T((2, 3), "int64")
XD = T((2, 3), "float64")
XB = T((2, 3), "bool")
XH = T((2, 3), "float16")


def idx(*values, shape=None, dtype="int64"):
    return T(shape or (len(values),), dtype, values)


# -- the families: name -> (fn(lib, *args), candidate values per argument) ----------------
def _nn(lib):
    return lib.nn.functional


def _deterministic(module, lib):
    """Same parameters in both libraries (their random initialisations differ)."""
    with lib.no_grad():
        for p in module.parameters():
            n = p.numel()
            p.copy_(lib.linspace(-0.5, 0.5, n, dtype=p.dtype).reshape(p.shape) if n else p)
    return module


def _linear_module(lib, i, o, bias, x):
    return _deterministic(lib.nn.Linear(i, o, bias=bias), lib)(x)


def _conv_module(lib, i, o, k, stride, padding, x):
    return _deterministic(lib.nn.Conv2d(i, o, k, stride=stride, padding=padding), lib)(x)


def _optimizer(name):
    def make(lib, **kwargs):
        p = lib.nn.Parameter(lib.tensor([1.0, -2.0, 3.0]))
        opt = getattr(lib.optim, name)([p], **kwargs)
        p.grad = lib.tensor([0.5, 0.25, -1.0])
        opt.step()
        return p.detach()
    return make


def _optim_family(name, **extra):
    args = {"lr": [1e-2, 0.0, -0.1, "x"], **extra}
    keys = list(args)

    def fn(lib, *values):
        return _optimizer(name)(lib, **dict(zip(keys, values)))
    return fn, list(args.values())


def _data_loader(lib, n, batch_size, shuffle, drop_last, sampler):
    data = lib.utils.data.TensorDataset(lib.arange(float(n)))
    kwargs = dict(batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)
    if sampler is not None:
        kwargs["sampler"] = range(n) if sampler == "range" else sampler
    loader = lib.utils.data.DataLoader(data, **kwargs)
    if shuffle:
        return len(loader)
    return [b[0] for b in loader]


def _getitem(lib, x, index):
    return x[index]


def _setitem(lib, x, index, value):
    x = x.clone()
    x[index] = value
    return x


DIMS = [0, 1, -1, 2, -3, None]
BAD_SIZES = [2, (2, 3), (), -1, (2, -1), 2.5, (2, 3.0), "a", [2, 3]]

FAMILIES = {
    # factories
    "zeros": (lambda lib, s, d: lib.zeros(s, dtype=d), [BAD_SIZES, [None, I64, BOOL, "x"]]),
    "ones": (lambda lib, s, d: lib.ones(s, dtype=d), [BAD_SIZES, [None, F64, U8]]),
    "empty": (lambda lib, s: lib.empty(s).shape, [BAD_SIZES]),
    "full": (lambda lib, s, v, d: lib.full(s, v, dtype=d),
             [[(2,), (2, -1), 2.5, ()], [1.5, 3, True, "a", 300], [None, U8, I32, BOOL]]),
    "rand": (lambda lib, s: lib.rand(s).shape, [BAD_SIZES]),
    "randint": (lambda lib, lo, hi, s: lib.randint(lo, hi, s).shape,
                [[0, 5, -2], [5, 0, 10, 2.5], [(3,), (-1,), 3, ()]]),
    "arange": (lambda lib, a, b, st: lib.arange(a, b, st),
               [[0, 1.5, -3, 5], [5, 0, 2.5, float("inf")], [1, -1, 0, 0.5]]),
    "linspace": (lambda lib, a, b, n: lib.linspace(a, b, n), [[0, -1.5], [1, 2], [5, 0, 1, -1, 2.5]]),
    "eye": (lambda lib, n, m: lib.eye(n, m), [[3, 0, -1, 2.5], [None, 2, -2, 0]]),
    "tensor": (lambda lib, data, d: lib.tensor(data, dtype=d),
               [[[1, 2], [[1, 2], [3]], [1.5, True], [], "a", [[1], [2]], 3, [300, -1]],
                [None, U8, BOOL, F16, I32]]),
    "full_like": (lambda lib, x, v, d: lib.full_like(x, v, dtype=d),
                  [[X, XI, E], [2.5, -1, True], [None, BOOL, I32]]),
    # arithmetic
    "add": (lambda lib, a, b, alpha: lib.add(a, b, alpha=alpha),
            [[X, XI, XB, S, V3], [X, V3, T((2,)), 2, 1.5, True, XD], [1, 2.5, True]]),
    "sub": (lambda lib, a, b: lib.sub(a, b), [[X, XI, XB], [X, XB, True, T((4,)), XI]]),
    "mul": (lambda lib, a, b: lib.mul(a, b), [[X, XI, XB, E], [X, XB, 2, T((3, 2)), E]]),
    "div": (lambda lib, a, b, m: lib.div(a, b, rounding_mode=m),
            [[X, XI, XB], [X, XI, 0, 2, idx(0, 1, 2)], [None, "floor", "trunc", "round"]]),
    "floor_divide": (lambda lib, a, b: lib.floor_divide(a, b),
                     [[X, XI, XB], [2, 0, XI, idx(0, 1, 2), 1.5]]),
    "remainder": (lambda lib, a, b: lib.remainder(a, b), [[X, XI, XB], [2, 0, XI, -1.5, XB]]),
    "pow": (lambda lib, a, b: lib.pow(a, b), [[X, XI, XB, 2], [2, -1, 0.5, XI, X, XB]]),
    "clamp": (lambda lib, x, lo, hi: lib.clamp(x, lo, hi),
              [[X, XI, XB], [None, 0.2, 1, T((3,))], [None, 0.5, -1, T((3,))]]),
    "where": (lambda lib, c, a, b: lib.where(c, a, b),
              [[XB, X, T((3,), "bool"), T((4,), "bool")], [X, 1.0, XI, V3], [X, 0, XD, T((4,))]]),
    "maximum": (lambda lib, a, b: lib.maximum(a, b), [[X, XI, XB], [X, XI, V3, 2, T((4,))]]),
    "bitwise_and": (lambda lib, a, b: lib.bitwise_and(a, b), [[XI, XB, X], [XI, XB, X, 3, 1.5]]),
    "lerp": (lambda lib, a, b, w: lib.lerp(a, b, w), [[X, XI, XD], [X, XD, V3], [0.5, X, XI]]),
    "exp": (lambda lib, x: lib.exp(x), [[X, XI, XB, E, S, XH]]),
    "sqrt_": (lambda lib, x: x.clone().sqrt_(), [[X, XI, XB, E]]),
    "add_": (lambda lib, a, b: a.clone().add_(b), [[X, XI, XB, V3], [X, XD, 1.5, T((2, 1)), XI]]),
    # matmul
    "matmul": (lambda lib, a, b: lib.matmul(a, b),
               [[X, V3, S, T((3, 2)), XI, XD, E2, X3], [T((3, 2)), V3, X, XI, XD, S, T((4, 2))]]),
    "mm": (lambda lib, a, b: lib.mm(a, b), [[X, V3, XI, XD], [T((3, 2)), X, V3, XD, XI]]),
    "bmm": (lambda lib, a, b: lib.bmm(a, b),
            [[X3, X, T((3, 3, 4))], [T((2, 4, 2)), X3, T((3, 4, 2)), T((2, 4, 2), "float64")]]),
    "mv": (lambda lib, a, b: lib.mv(a, b), [[X, V3, XI], [V3, X, T((2,)), T((3,), "int64")]]),
    "dot": (lambda lib, a, b: lib.dot(a, b), [[V3, X, T((3,), "int64")], [V3, T((2,)), X, S]]),
    "outer": (lambda lib, a, b: lib.outer(a, b), [[V3, X, S], [V3, X, T((3,), "int64")]]),
    "addmm": (lambda lib, c, a, b, beta: lib.addmm(c, a, b, beta=beta),
              [[T((2, 2)), V3, X], [X, V3], [T((3, 2)), X], [1, 0, 0.5]]),
    # reductions
    "sum": (lambda lib, x, d, keep, dtype: lib.sum(x, d, keepdim=keep, dtype=dtype),
            [[X, XI, XB, E, S, E2], [0, -1, 2, (0, 1), (0, 0), -3], [False, True],
             [None, I32, F64, BOOL]]),
    "mean": (lambda lib, x, d, dtype: lib.mean(x, d, dtype=dtype),
             [[X, XI, E, E2, S], [None, 0, 2, (0, 1), -1], [None, F64, I64]]),
    "prod": (lambda lib, x, d, dtype: lib.prod(x, d, dtype=dtype),
             [[X, XI, XB, E, S], [0, 1, -1, 2, -3], [None, U8, I32, F64]]),
    "max_dim": (lambda lib, x, d, keep: lib.max(x, d, keepdim=keep),
                [[X, XI, XB, E, E2, S], DIMS[:-1], [False, True]]),
    "max_all": (lambda lib, x: lib.max(x), [[X, XI, XB, E, E2, S]]),
    "min_binary": (lambda lib, a, b: lib.min(a, b), [[X, XI], [X, XD, V3, T((4,))]]),
    "amax": (lambda lib, x, d: lib.amax(x, d), [[X, XI, E, E2, S], [0, 1, (), (0, 1), 2, (0, 0)]]),
    "argmax": (lambda lib, x, d, keep: lib.argmax(x, d, keepdim=keep),
               [[X, XI, XB, E, E2, S], DIMS, [False, True]]),
    "argmin": (lambda lib, x, d: lib.argmin(x, d), [[X, E, E2, S], DIMS]),
    "std": (lambda lib, x, d, c: lib.std(x, d, correction=c),
            [[X, XI, E, S, V3], [None, 0, 1, 2, (0, 1)], [0, 1, 2, 5, -1, 1.5]]),
    "var": (lambda lib, x, d, c, keep: lib.var(x, d, correction=c, keepdim=keep),
            [[X, XI, E, S, XH], [None, 0, -1, 3], [0, 1, 4], [False, True]]),
    "norm": (lambda lib, x, p, d: lib.norm(x, p, d),
             [[X, XI, E, S], [2, 1, float("inf"), 0, -1, "fro", "nuc", 3.5], [None, 0, 1, (0, 1), 2]]),
    "vector_norm": (lambda lib, x, o, d, dtype: lib.linalg.vector_norm(x, o, d, dtype=dtype),
                    [[X, XI, E, XH], [2, 0, float("inf"), -float("inf"), "fro"], [None, 0, (0, 1)],
                     [None, F64, I64]]),
    "logsumexp": (lambda lib, x, d: lib.logsumexp(x, d), [[X, XI, E, E2, S], [0, 1, 2, (0, 1), ()]]),
    "cumsum": (lambda lib, x, d, dtype: lib.cumsum(x, d, dtype=dtype),
               [[X, XI, XB, E, S], [0, 1, -1, 2], [None, I32, F64]]),
    "cumprod": (lambda lib, x, d: lib.cumprod(x, d), [[X, XI, XB, E, S], [0, -1, 2, -3]]),
    "all": (lambda lib, x, d: lib.all(x, d), [[X, XI, XB, E, S, XD], [None, 0, 1, 2, -3]]),
    "topk": (lambda lib, x, k, d, largest: lib.topk(x, k, d, largest=largest),
             [[X, XI, XB, E, S], [1, 2, 3, 4, 0, -1], [0, -1, 2], [True, False]]),
    "sort": (lambda lib, x, d, desc: lib.sort(x, d, descending=desc),
             [[X, XI, XB, E, S], [0, -1, 2, -3], [False, True]]),
    "median": (lambda lib, x, d: lib.median(x, d), [[X, XI, E, S, E2], [0, 1, -1, 2]]),
    "kthvalue": (lambda lib, x, k, d: lib.kthvalue(x, k, d), [[X, XI, E, S], [1, 2, 3, 0, -1], [0, 1, -1, 2]]),
    # views
    "view": (lambda lib, x, s: x.view(s),
             [[X, E, S, X3], [(3, 2), (-1,), (6,), (-1, -1), (4, -1), (0,), (0, -1), (-2, 3), (), 2.5]]),
    "reshape": (lambda lib, x, s: x.reshape(s),
                [[X, E, S, E2], [(3, 2), (-1,), (5, -1), (-1, 0), (1, 1, -1), (), (2.0, 3), (-3, 2)]]),
    "transpose": (lambda lib, x, a, b: x.transpose(a, b), [[X, S, V3, X3], [0, 1, -1, 2, -3], [0, 1, 2, -4]]),
    "permute": (lambda lib, x, dims: x.permute(dims),
                [[X, X3, S], [(1, 0), (0, 0), (0, 1, 2), (2, 1, 0), (0,), (-1, 0), (0, 3), ()]]),
    "squeeze": (lambda lib, x, d: x.squeeze(d), [[X, T((1, 3, 1)), S, E], [0, 2, -1, 3, (0, 2), (0, 0)]]),
    "unsqueeze": (lambda lib, x, d: x.unsqueeze(d), [[X, S, E], [0, 2, 3, -3, -4, 1.5]]),
    "expand": (lambda lib, x, s: x.expand(s),
               [[T((1, 3)), X, S, V3], [(2, 3), (-1, 3), (3, 3), (4, -1, 3), (2,), (-1, -1, 3), (0, 3)]]),
    "flatten": (lambda lib, x, a, b: x.flatten(a, b), [[X, X3, S, E], [0, 1, -1, 3], [-1, 0, 1, 3]]),
    "narrow": (lambda lib, x, d, start, n: x.narrow(d, start, n),
               [[X, S, E], [0, 1, 2], [0, 1, -1, 3, 4], [0, 1, 2, -1]]),
    "select": (lambda lib, x, d, i: x.select(d, i), [[X, S, E2], [0, 1, 2], [0, 1, -1, 2, 3, -4]]),
    "split": (lambda lib, x, s, d: x.split(s, d),
              [[X, E, X3], [1, 2, 0, -1, (1, 2), (1, 1), (2, 2)], [0, 1, -1, 3]]),
    "chunk": (lambda lib, x, n, d: x.chunk(n, d), [[X, E, X3], [1, 2, 4, 0, -1], [0, 1, 3]]),
    "unfold": (lambda lib, x, d, size, step: x.unfold(d, size, step),
               [[X, S, V3], [0, 1, 2], [1, 2, 4, 0, -1], [1, 2, 0, -1]]),
    "repeat": (lambda lib, x, r: x.repeat(r), [[X, S, E], [(2, 1), (2,), (1, 2, 3), (-1, 2), (0, 1), ()]]),
    "flip": (lambda lib, x, d: x.flip(d), [[X, S, E], [(0,), (0, 1), (2,), (0, 0), (), -1]]),
    "roll": (lambda lib, x, s, d: x.roll(s, d), [[X, S, E], [1, -2, (1, 2), 0], [None, 0, 1, 2, (0, 1)]]),
    "movedim": (lambda lib, x, a, b: x.movedim(a, b), [[X, X3, S], [0, (0, 1), 3, -1], [1, (1, 0), 0, -4, (1,)]]),
    # indexing
    "index_select": (lambda lib, x, d, i: lib.index_select(x, d, i),
                     [[X, S, V3, E2], [0, 1, -1, 2],
                      [idx(0, 1), idx(-1), idx(3), idx(1, dtype="int32"), T((2,), "float32", [0.0, 1.0]),
                       idx(0, 1, shape=(1, 2)), T((0,), "int64")]]),
    "gather": (lambda lib, x, d, i: lib.gather(x, d, i),
               [[X, S, V3], [0, 1, -1, 2],
                [idx(0, 1, 0, shape=(1, 3)), idx(-1, shape=(1, 1)), idx(2, shape=(1, 1)),
                 idx(0, shape=(1,)), idx(0, 1, 1, 0, shape=(4, 1)), T((1, 1), "int32", [0])]]),
    "scatter": (lambda lib, x, d, i, src: x.clone().scatter(d, i, src),
                [[X, V3], [0, 1, 2],
                 [idx(0, 1, 0, shape=(1, 3)), idx(-1, shape=(1, 1)), idx(5, shape=(1, 1)),
                  idx(0, shape=(1,)), T((1, 1), "float32", [0.0])],
                 [1.5, X, XI, T((1, 1))]]),
    "scatter_add": (lambda lib, x, d, i, src: lib.scatter_add(x, d, i, src),
                    [[X, XI], [0, 1], [idx(0, 1, 0, shape=(1, 3)), idx(-1, shape=(1, 1)),
                                       idx(9, shape=(1, 1))], [X, XI, T((1, 1))]]),
    "index_add": (lambda lib, x, d, i, src: lib.index_add(x, d, i, src),
                  [[X, XI], [0, 1, 2], [idx(0, 1), idx(-1), idx(4), idx(0, 1, 0)],
                   [X, XI, T((2, 2)), T((3, 2))]]),
    "take": (lambda lib, x, i: lib.take(x, i), [[X, E, S], [idx(0, 5), idx(-1), idx(6), idx(-7), T((0,), "int64")]]),
    "getitem": (_getitem, [[X, S, E2, X3],
                          [0, -1, 2, -3, (0, 1), (0, 3), (slice(None), 5), None, Ellipsis, (0, 0, 0),
                           idx(0, 1), idx(-3), idx(2), T((2,), "bool", [True, False]),
                           T((3,), "bool", [True, False, True]), idx(0, 1, dtype="int32"), 1.5,
                           slice(0, 2, -1), slice(0, 2, 0), "a"]]),
    "setitem": (_setitem, [[X, XI], [0, (0, 5), idx(0, 1), idx(2), T((2,), "bool", [True, False])],
                           [1.5, V3, T((2,)), XI, T((4,))]]),
    "masked_fill": (lambda lib, x, m, v: x.masked_fill(m, v),
                    [[X, XI], [XB, T((3,), "bool"), T((4,), "bool"), XI, X], [1.5, 2, T(()), V3]]),
    "embedding": (lambda lib, i, w: _nn(lib).embedding(i, w),
                  [[idx(0, 1), idx(-1), idx(4), T((2,), "float32", [0.0, 1.0]), idx(1, dtype="int32")],
                   [T((4, 3)), V3, XI]]),
    # cat / stack
    "cat": (lambda lib, ts, d: lib.cat(ts, d),
            [[[X, X], [X, V3], [X, XD], [X, XI], [X, E], [], [X, T((2, 2))], [S, S], [X3, X], [E, E], (X, XB)],
             [0, 1, -1, 2, -3]]),
    "stack": (lambda lib, ts, d: lib.stack(ts, d),
              [[[X, X], [X, T((3, 2))], [], [X, XD], [S, S], [X, XI]], [0, 2, -1, 3, -4]]),
    # losses
    "mse_loss": (lambda lib, a, b, r: _nn(lib).mse_loss(a, b, reduction=r),
                 [[X, XD, XI, E], [X, XD, V3, T((3, 2)), XI, E], ["mean", "sum", "none", "avg"]]),
    "l1_loss": (lambda lib, a, b, r: _nn(lib).l1_loss(a, b, reduction=r),
                [[X, XI, E], [X, XD, T((4,)), E], ["mean", "none", "bad"]]),
    "nll_loss": (lambda lib, x, t, r, ig: _nn(lib).nll_loss(x, t, reduction=r, ignore_index=ig),
                 [[X, XD, T((2, 3, 4)), V3, S],
                  [idx(0, 2), idx(0, 3), idx(-1, 1), idx(-100, 1), idx(0, 1, 2), idx(0, 1, dtype="int32"),
                   T((2,), "float32", [0.0, 1.0]), idx(1, shape=()), idx(0, 1, 2, 0, 1, 2, 0, 1, shape=(2, 4))],
                  ["mean", "sum", "none"], [-100, 1]]),
    "cross_entropy": (lambda lib, x, t, ls: _nn(lib).cross_entropy(x, t, label_smoothing=ls),
                      [[X, XD, V3, XI],
                       [idx(0, 2), idx(0, 3), idx(-1, 1), idx(-100, 1), X, T((2, 4)), idx(1, shape=()),
                        idx(0, 1, dtype="int32")],
                       [0.0, 0.1, 1.5, -0.1]]),
    "binary_cross_entropy": (lambda lib, x, t, w: _nn(lib).binary_cross_entropy(x, t, w),
                             [[X, T((2,), values=[1.5, 0.5]), T((2,), values=[-0.5, 0.5]), XD, XI,
                               T((2,), values=[0.0, 1.0])],
                              [X, T((2,), values=[0.0, 1.0]), XD, T((3, 2)), XI],
                              [None, X, V3, T((4,))]]),
    "bce_with_logits": (lambda lib, x, t, pw: _nn(lib).binary_cross_entropy_with_logits(x, t, pos_weight=pw),
                        [[X, XD, XI], [X, XD, V3, XI], [None, V3, T((2,)), T((4,))]]),
    "kl_div": (lambda lib, a, b, r, lt: _nn(lib).kl_div(a, b, reduction=r, log_target=lt),
               [[X, XD, XI], [X, XD, V3, T((4,))], ["mean", "batchmean", "sum", "x"], [False, True]]),
    "smooth_l1_loss": (lambda lib, a, b, beta: _nn(lib).smooth_l1_loss(a, b, beta=beta),
                       [[X, XI], [X, XD, T((4,))], [1.0, 0.0, -1.0, 0.5]]),
    "huber_loss": (lambda lib, a, b, delta: _nn(lib).huber_loss(a, b, delta=delta),
                   [[X, XI], [X, XD, T((4,))], [1.0, 0.0, -1.0]]),
    # layers
    "linear": (lambda lib, x, w, b: _nn(lib).linear(x, w, b),
               [[X, XD, XI, V3, S, E2], [T((4, 3)), T((4, 3), "float64"), T((4, 2)), V3, XI],
                [None, T((4,)), T((3,)), T((4,), "float64")]]),
    "Linear": (_linear_module, [[3, 0, -1, 2.5], [4, 0, -2], [True, False], [X, XD, XI, V3, E2, S]]),
    "conv2d": (lambda lib, x, w, stride, padding, groups: _nn(lib).conv2d(x, w, None, stride, padding, 1, groups),
               [[X4, T((3, 5, 5)), T((2, 3, 5, 5), "float64"), X, T((2, 3, 5, 5), "int64"), T((2, 3, 1, 1))],
                [T((4, 3, 3, 3)), T((4, 3, 3, 3), "float64"), T((4, 1, 3, 3)), T((4, 2, 3, 3)), T((4, 3, 7, 7)), V3],
                [1, 2, 0, -1, (1, 2)], [0, 1, "same", "valid", -1, (1, 1, 1)], [1, 3, 0, 2]]),
    "Conv2d": (_conv_module, [[3, 0, 2], [4, 0, -1], [3, 0, 7, (3, 3)], [1, 0, 2], [0, 1, "same", -1],
                              [X4, T((2, 3, 5, 5), "float64"), X, T((3, 5, 5)), T((2, 2, 5, 5))]]),
    "conv1d": (lambda lib, x, w, stride, padding: _nn(lib).conv1d(x, w, None, stride, padding),
               [[X3, X, T((2, 3, 4), "float64")], [T((2, 3, 2)), T((2, 3, 5)), T((2, 2, 2)), T((2, 3, 2), "float64")],
                [1, 2, 0], [0, 1, "same", -1]]),
    "max_pool2d": (lambda lib, x, k, s, p, ceil: _nn(lib).max_pool2d(x, k, s, p, ceil_mode=ceil),
                   [[X4, T((1, 1, 1, 1)), T((3, 5, 5)), X, T((2, 3, 5, 5), "int64"), T((1, 0, 2, 2))],
                    [2, 1, 3, 0, 6, (2, 3), -1], [None, 1, 2, 0, -1], [0, 1, 2], [False, True]]),
    "avg_pool2d": (lambda lib, x, k, s, p, ceil: _nn(lib).avg_pool2d(x, k, s, p, ceil_mode=ceil),
                   [[X4, T((1, 1, 1, 1)), T((3, 5, 5)), X, T((2, 3, 5, 5), "int64")],
                    [2, 1, 3, 0, 6], [None, 1, 2, 0], [0, 1, 2], [False, True]]),
    "adaptive_avg_pool2d": (lambda lib, x, s: _nn(lib).adaptive_avg_pool2d(x, s),
                            [[X4, T((3, 5, 5)), X, T((2, 3, 5, 5), "int64"), T((1, 1, 0, 2))],
                             [1, 2, (2, 3), 0, -1, (None, 2), 7]]),
    "max_pool1d": (lambda lib, x, k, s, ceil: _nn(lib).max_pool1d(x, k, s, ceil_mode=ceil),
                   [[X3, T((1, 1, 1)), V3, X], [1, 2, 4, 5, 0], [None, 1, 2, 0, -1], [False, True]]),
    "layer_norm": (lambda lib, x, s, w: _nn(lib).layer_norm(x, s, w),
                   [[X, XD, XI, X3, E2], [(3,), (), (2, 3), (4,), 3, (3.0,)], [None, V3, T((4,)), X]]),
    "batch_norm": (lambda lib, x, m, v, training: _nn(lib).batch_norm(x, m, v, training=training),
                   [[X, X3, T((1, 3)), XD, V3], [V3, T((4,)), None], [V3, T((4,)), None], [False, True]]),
    "softmax": (lambda lib, x, d, dtype: _nn(lib).softmax(x, d, dtype=dtype),
                [[X, XI, E2, S, XH], [0, 1, -1, 2, -3], [None, F64, I64]]),
    "log_softmax": (lambda lib, x, d: _nn(lib).log_softmax(x, d), [[X, XI, E2, S], [0, -1, 2]]),
    "dropout": (lambda lib, x, p, training: _nn(lib).dropout(x, p, training).shape,
                [[X, XI, E], [0.0, 0.5, 1.0, -0.1, 1.5], [False, True]]),
    "pad": (lambda lib, x, p, mode, v: _nn(lib).pad(x, p, mode=mode, value=v),
            [[X, X3, X4, S], [(1, 1), (1,), (1, 2, 3), (-1, 0), (-3, 0), (1, 1, 1, 1), (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)],
             ["constant", "reflect", "replicate", "circular", "bad"], [0.0, None, 2.0]]),
    "interpolate": (lambda lib, x, size, sf, mode: _nn(lib).interpolate(x, size=size, scale_factor=sf, mode=mode),
                    [[X4, X3, X], [None, 4, (4, 4), 0, (4,)], [None, 2, 0.5, -1, (2, 2)],
                     ["nearest", "bilinear", "linear", "bicubic", "bad"]]),
    "one_hot": (lambda lib, t, n: _nn(lib).one_hot(t, n),
                [[idx(0, 2), idx(-1), idx(3), XI, T((2,), "float32", [0.0, 1.0]), T((0,), "int64")], [3, -1, 0, 2, 4]]),
    # optimizers (constructors, then one step)
    "SGD": _optim_family("SGD", momentum=[0.0, 0.9, -0.5], nesterov=[False, True],
                         weight_decay=[0.0, -1.0], dampening=[0.0, 0.5]),
    "Adam": _optim_family("Adam", betas=[(0.9, 0.999), (1.0, 0.9), (-0.1, 0.9), (0.9, 1.5)],
                          eps=[1e-8, -1.0], weight_decay=[0.0, 0.01, -0.1], amsgrad=[False, True]),
    "AdamW": _optim_family("AdamW", betas=[(0.9, 0.999), (0.9, 1.0)], eps=[1e-8, -1e-3],
                           weight_decay=[0.01, -0.1]),
    "RMSprop": _optim_family("RMSprop", alpha=[0.99, -0.1], momentum=[0.0, -0.5, 0.9],
                             eps=[1e-8, -1.0], centered=[False, True]),
    "Adagrad": _optim_family("Adagrad", lr_decay=[0.0, -0.1], eps=[1e-10, -1.0],
                             initial_accumulator_value=[0.0, -1.0]),
    # data
    "DataLoader": (_data_loader, [[5, 0], [2, 1, 0, -1, 2.5, None, 7], [False, True], [False, True],
                                  [None, "range"]]),
}


# -- the generator and the comparison -------------------------------------------------------
def cases(name):
    fn, pools = FAMILIES[name]
    rng = random.Random(f"{SEED}:{name}")
    combos = list(itertools.product(*[range(len(p)) for p in pools]))
    if len(combos) > CASES_PER_FAMILY:
        # always the all-first (valid) combination, then a seeded sample of the rest
        combos = [combos[0]] + rng.sample(combos[1:], CASES_PER_FAMILY - 1)
    return [(fn, tuple(p[i] for p, i in zip(pools, combo))) for combo in combos]


def run(fn, args, lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return True, fn(lib, *build(args, lib))
        except Exception as e:  # noqa: BLE001 - the exception is the result we compare
            return False, e


def _as_plain(x):
    """A result as numpy arrays, tuples and plain values (dtypes as names)."""
    if isinstance(x, (torch.Tensor, torchlike.Tensor)):
        x = x.detach()
        name = str(x.dtype).replace("torch.", "")
        if name == "bfloat16":
            x = x.float()
        return ("tensor", name, np.asarray(x.numpy()))
    if isinstance(x, (torch.dtype, torchlike.dtype)):
        return str(x).replace("torch.", "")
    if isinstance(x, (tuple, list)):
        return tuple(_as_plain(v) for v in x)
    return x


def _same_value(a, b):
    if isinstance(a, tuple) and isinstance(b, tuple):
        if a[:1] == ("tensor",) or b[:1] == ("tensor",):
            if a[:2] != b[:2] or a[2].shape != b[2].shape:
                return False
            return np.allclose(a[2], b[2], rtol=1e-4, atol=1e-5, equal_nan=True)
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return np.isclose(a, b, rtol=1e-5, equal_nan=True)
    return type(a) is type(b) and a == b


def compare(fn, args):
    """None if torchlike answers like torch, else a description of the difference."""
    ok_t, theirs = run(fn, args, torch)
    ok_l, ours = run(fn, args, torchlike)
    if ok_t and ok_l:
        if _same_value(_as_plain(ours), _as_plain(theirs)):
            return None
        return f"different result: {_as_plain(ours)!r} vs torch {_as_plain(theirs)!r}"[:400].replace("\n", " ")
    if ok_t:
        return f"raised {type(ours).__name__}: {str(ours)[:200]!r}; torch succeeded"
    if ok_l:
        return f"accepted; torch raised {type(theirs).__name__}: {str(theirs)[:200]!r}"
    expected = str(theirs).split("\n")[0][:PREFIX]
    if type(ours).__name__ != type(theirs).__name__ or not str(ours).startswith(expected):
        return (f"raised {type(ours).__name__}: {str(ours)[:200]!r}; "
                f"torch raised {type(theirs).__name__}: {str(theirs)[:200]!r}")
    return None


def case_id(name, args):
    return f"{name}{args!r}"


# Cases torchlike does not answer like torch today, by reason.
XFAIL = {
    # a kernel size of 0 with padding="same": PyTorch pads by -1 (it narrows the input)
    # and fails later on the channels; torchlike refuses the negative padding first
    "Conv2d(0, 4, 0, 1, 'same', T(2, 3, 5, 5))", "Conv2d(3, 0, 0, 1, 'same', T(3, 5, 5))",
    # PyTorch's legacy rule skips 1-D empty tensors in cat before checking dim
    "cat([T(0,), T(0,)], 2)",
    # PyTorch computes numel of the -1 size for a 0-dim tensor and reports an overflow
    "expand(T(), (-1, 3))", "expand(T(), (4, -1, 3))", "expand(T(), (-1, -1, 3))",
    # equal values: PyTorch's partial sort returns a different (valid) index among ties
    "kthvalue(T(2, 3), int64, 1, 1)", "kthvalue(T(2, 3), int64, 2, -1)",
    "kthvalue(T(2, 3), int64, 1, -1)", "kthvalue(T(2, 3), int64, 2, 1)",
    # both size and dtype invalid: PyTorch matches the dtype's type before unpacking sizes
    "zeros((2, 3.0), 'x')",
}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_bad_input_answered_like_torch(name):
    failures = []
    for fn, args in cases(name):
        cid = case_id(name, args)
        problem = compare(fn, args)
        if problem is not None and cid not in XFAIL:
            failures.append(f"{cid}: {problem}")
    assert not failures, f"{len(failures)} calls differ from torch:\n" + "\n".join(failures)


def test_xfail_list_is_current():
    """Every listed exception is still generated (and still fails): the list stays short."""
    generated = {case_id(n, a): (f, a) for n in FAMILIES for f, a in cases(n)}
    stale = [cid for cid in XFAIL if cid not in generated or compare(*generated[cid]) is None]
    assert not stale, stale
