"""OpInfo: the oracle-test samples of every op, in one table beside the op table.

Like PyTorch's `common_methods_invocations.py`, each `OpInfo` names a PyTorch callable
and lists sample calls. One generic test (tests/test_ops_oracle.py) runs every sample
under real torch and under torchlike, in each variant that either library has:

    function   torch.<name>(*args, **kwargs)          (dotted names: torch.linalg.norm)
    method     args[self_arg].<name>(*rest, **kwargs)
    inplace    args[self_arg].clone().<name>_(*rest, **kwargs)
    function_  torch.<name>_(args[self_arg].clone(), *rest, **kwargs)  (torch.relu_, F.elu_)
    out        torch.<name>(*args, out=<empty>, **kwargs)  (first sample, when torch takes out=)

and compares values, dtype, shape, requires_grad, grad_fn names and the gradients of
every floating input. The docs generator (docs.py) reads the same table to mark which
functions and methods are covered. This module never imports torch: samples are
descriptions (`T`, `L` placeholders) that the test materialises for each library.
"""
import zlib

import numpy as np

OP_DB = []          # every OpInfo, in registration order

_DTYPES = {"f16": "float16", "bf16": "bfloat16", "f32": "float32", "f64": "float64",
           "i8": "int8", "i16": "int16", "i32": "int32", "i64": "int64", "u8": "uint8",
           "b": "bool", "c64": "complex64"}


class T:
    """A random tensor argument: T(2, 3), T(dtype='f64', low=0.1), T(2, grad=False).

    Values are uniform in [low, high) (integers: [low, high)), drawn from a seed fixed
    by the op, sample and position, so torch and torchlike see the same numbers.
    `grad` (default: floating dtypes) makes it a leaf that requires grad."""

    def __init__(self, *shape, dtype="f32", low=None, high=None, grad=None, distinct=False,
                 kind=None):
        self.shape = tuple(shape)
        self.dtype = _DTYPES.get(dtype, dtype)
        floating = self.dtype.startswith(("float", "bfloat", "complex"))
        self.low = (-2.0 if floating else (0 if self.dtype == "uint8" else -5)) if low is None else low
        self.high = (2.0 if floating else 6) if high is None else high
        self.grad = floating and self.dtype != "float16" if grad is None else grad
        self.distinct = distinct          # no repeated values (sort/topk/median ties)
        self.kind = kind                  # 'spd' or 'wellcond' square matrices (linalg)

    def numpy(self, seed):
        rng = np.random.default_rng(seed)
        n = int(np.prod(self.shape))
        if self.dtype == "bool":
            return rng.random(self.shape) < 0.5
        if self.distinct:
            vals = rng.permutation(n).astype(np.float64)
            vals = self.low + (vals + 0.5) * (self.high - self.low) / max(n, 1)
            return _cast(vals.reshape(self.shape), self.dtype)
        if self.dtype.startswith(("float", "bfloat")):
            vals = rng.uniform(self.low, self.high, self.shape)
            n = self.shape[-1] if self.shape else 0
            if self.kind == "spd":         # M M^T + n I: symmetric positive definite
                vals = vals @ np.swapaxes(vals, -1, -2) + n * np.eye(n)
            elif self.kind == "wellcond":  # diagonally dominant: far from singular
                vals = vals + n * np.eye(n)
            return _cast(vals, self.dtype)
        if self.dtype.startswith("complex"):
            vals = rng.uniform(self.low, self.high, self.shape) \
                + 1j * rng.uniform(self.low, self.high, self.shape)
            return vals.astype(self.dtype)
        return rng.integers(self.low, self.high, self.shape).astype(self.dtype)

    def __repr__(self):
        return f"T{self.shape}:{self.dtype}"


class L(T):
    """A literal tensor argument: L([1., 0., -1.]), L([[0, 2]], 'i64'), L(2.5, grad=True)."""

    def __init__(self, values, dtype=None, grad=None):
        arr = np.asarray(values)
        if dtype is None:
            dtype = {"f": "f32", "i": "i64", "u": "i64", "b": "b"}[arr.dtype.kind]
        super().__init__(*arr.shape, dtype=dtype, grad=grad)
        self.values = arr

    def numpy(self, seed):
        return _cast(self.values, self.dtype)

    def __repr__(self):
        return f"L({self.values.tolist()}):{self.dtype}"


def _cast(values, dtype):
    if dtype == "bfloat16":
        import ml_dtypes
        return np.asarray(values).astype(ml_dtypes.bfloat16)
    return np.asarray(values).astype(dtype)


class D:
    """A dtype argument: D('float64') is torch.float64 / torchlike.float64."""

    def __init__(self, name):
        self.name = _DTYPES.get(name, name)

    def __repr__(self):
        return self.name


class S:
    """One sample call: S(T(2, 3), 1, keepdim=True)."""

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs

    def __repr__(self):
        items = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return "(" + ", ".join(items) + ")"


class E(S):
    """A call torch rejects: torchlike must raise the same exception class, and the same
    message unless msg=False."""

    def __init__(self, *args, msg=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.msg = msg


class OpInfo:
    """name: the torch name ('add', 'linalg.norm', 'nn.functional.relu').
    samples: list of S; errors: list of E.
    op: a custom callable fn(lib, *args, **kwargs) tested instead of the variants
        (for names with no plain call form, e.g. Tensor.H); `covers` then lists the
        names it exercises.
    aliases: other names of the same op (tested on the first sample).
    self_arg: which positional argument becomes `self` in the method variants.
    variants: restrict to these variants (default: every one either library has).
    atol/rtol: float32 tolerances (float64 uses them divided by 1e4, min 1e-12). The
        defaults hold for one op on these small samples in any library and on any CPU:
        rtol 1.3e-5 is 109 float32 ulps, room for a libm function's few ulps times its
        condition number, a reduction over the samples' <= ~60 elements in any order
        (FMA or not), or a small factorization; atol 1e-5 is 84 ulps of a unit-scale
        term, for results that cancel to near zero (a gradient that sums to zero).
        Divided by 1e4 they are ~2.6e7 float64 ulps. An op whose computation is longer
        states its own, with the count of roundings that gives it.
    grad: compare gradients (False for ops torch cannot differentiate).
    nondeterministic: compare only dtype and shape (random ops).
    """

    def __init__(self, name, samples=(), *, errors=(), op=None, covers=(), aliases=(),
                 self_arg=0, variants=None, atol=1e-5, rtol=1.3e-5, grad=True,
                 nondeterministic=False, out=True):
        self.name = name
        self.samples = list(samples)
        self.errors = list(errors)
        self.op = op
        self.covers = tuple(covers)
        self.aliases = tuple(aliases)
        self.self_arg = self_arg
        self.variants = variants
        self.atol, self.rtol = atol, rtol
        self.grad = grad
        self.nondeterministic = nondeterministic
        self.out = out
        OP_DB.append(self)

    def __repr__(self):
        return f"OpInfo({self.name})"

    def seed(self, sample_index, arg_path):
        return zlib.crc32(f"{self.name}/{sample_index}/{arg_path}".encode())


# -- resolving names in a library ---------------------------------------------------------
def resolve(lib, dotted):
    """lib.linalg.norm for 'linalg.norm'; None when missing."""
    obj = lib
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


VARIANTS = ("function", "method", "inplace", "function_")


def has_variant(lib, name, variant):
    if variant == "function":
        return resolve(lib, name) is not None
    if variant == "function_":
        return not name.endswith("_") and resolve(lib, name + "_") is not None
    if "." in name:
        return False
    if variant == "method":
        return hasattr(lib.Tensor, name)
    if variant == "inplace":
        return hasattr(lib.Tensor, name + "_") and not name.endswith("_")
    return False


def variants_of(info, libs):
    """The variants of info.name that any of `libs` has (custom ops: just 'custom')."""
    if info.op is not None:
        return ["custom"]
    names = info.variants or VARIANTS
    return [v for v in names if any(has_variant(lib, info.name, v) for lib in libs)]


def covered_names(lib):
    """'torch.add', 'Tensor.add', 'Tensor.add_' ... that the table exercises in `lib`."""
    out = set()
    for info in OP_DB:
        if info.op is not None:
            out.update(info.covers)
            continue
        for name in (info.name,) + info.aliases:
            for v in info.variants or VARIANTS:
                if has_variant(lib, name, v):
                    out.add(qualified(name, v))
    return out


def qualified(name, variant):
    if variant in ("function", "function_"):
        return "torch." + name + ("_" if variant == "function_" else "")
    return "Tensor." + name + ("_" if variant == "inplace" else "")


def load_all():
    """Import every sample table (each module appends to OP_DB). A later entry with the
    same name adds its samples, errors and aliases to the first (whose options win).
    Then the samples PyTorch's op_db already checks are dropped (see drop_op_db_duplicates)."""
    if not OP_DB:
        from . import pointwise, reduce, linalg, shape, nn  # noqa: F401
        merged = {}
        for info in list(OP_DB):
            first = merged.setdefault(info.name if info.op is None else id(info), info)
            if first is not info:
                first.samples += info.samples
                first.errors += info.errors
                first.aliases += tuple(a for a in info.aliases if a not in first.aliases)
                OP_DB.remove(info)
        drop_op_db_duplicates(OP_DB)
    return OP_DB


# -- one source of samples: what PyTorch's op_db already checks is not repeated here --------
# The rule: for an op whose op_db OpInfos all pass in tests/test_opdb.py (OP_DB_COVERED,
# generated by `python tests/test_opdb.py --covered`), test_opdb already compares values and
# gradients on random samples of float32, float64, int64 and bool. Our own table keeps
# what op_db does not check there: its first sample (on which every variant runs: grad_fn
# name, requires_grad, method, in-place write-back, torch.fn_, out=, aliases), samples with
# hand-picked values (L: kinks, ties, specials), with keyword or non-tensor arguments (other
# code paths), of other dtypes or special matrices, and every error sample (exact
# messages; op_db's match a regex). Only plain random-tensor calls are dropped.
_OP_DB_DTYPES = {"float32", "float64", "int64", "bool"}
DROPPED = []        # (op name, sample) dropped as op_db duplicates, for the report


def duplicates_op_db(sample):
    return (not sample.kwargs and bool(sample.args)
            and all(type(a) is T and a.dtype in _OP_DB_DTYPES and a.kind is None
                    and not a.distinct for a in sample.args))


def drop_op_db_duplicates(infos):
    from .op_db_covered import OP_DB_COVERED
    for info in infos:
        if info.op is not None or info.name not in OP_DB_COVERED:
            continue
        kept = info.samples[:1]
        for sample in info.samples[1:]:
            if duplicates_op_db(sample):
                DROPPED.append((info.name, sample))
            else:
                kept.append(sample)
        info.samples = kept
