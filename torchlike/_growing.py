"""Growing shapes: a pending graph whose length grows (generation appending one token per
step) runs through one compiled program per bucket of lengths, not one per length.

XLA compiles for static shapes, so a forward over 1, 2, 3, ... tokens compiled a new
program for every length (about 0.25 s each for a tiny GPT on CPU, against a few
milliseconds to run it). Here a pending graph met for the first time is compared with
the last graph of the same structure (`_family`: the program with its integers
erased). If they differ in exactly one integer, old value `t0` everywhere it changed
and new value `T`, the positions that changed are a symbolic length: shape entries of
the graph's inputs and integer parameters of its ops (a `view`'s shape). From the
structure's third size on (its second, where the length grew by one), the graph runs
padded to the bucket length `B >= T` (a power of two, at least `BUCKET_MIN`): inputs
are padded with zeros on the host, the parameters take `B`, and the real length `T` is
an argument of the program, so every length of the bucket reuses one compile.

Padding is correct only where no value at a real position depends on a padded one.
`_RULES` says, per op, how the padded axes of its inputs map to its outputs and refuses
what mixes positions along a padded axis: a reduction, softmax or normalization over
it, a contraction along it, an attention whose keys are padded but not causal. An op
without a rule, a padded length in a parameter an op does not allow, or a large input
to pad: the graph runs as before, one program per shape. A padded output (the full
logits a caller keeps while reading `logits[:, -1]`) is cut back to its length. The one
op that mixes positions and is allowed is causal attention with queries and keys padded
alike (real queries never see later keys); its padded keys and values are zeroed first,
so that whatever the padding computed (an infinity from `1/0`) cannot reach a real row
through a zero weight.
"""
import collections
import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._caches import LRU
from ._host_ops import on_device_of

BUCKET_MIN = 64                 # (a compile costs more than padding a short length to it)
MAX_PAD_ELEMENTS = 1 << 16      # inputs padded on the host (token ids, positions) are small

_families = LRU(256)        # structure without integers -> (the last graph's integers,
                            # how many times they changed)
_programs = LRU(256)        # padded structure -> jitted program


class NotPaddable(Exception):
    pass


def bucket(length):
    b = BUCKET_MIN
    while b < length:
        b *= 2
    return b


def padded_call(program, outputs, externals):
    """A function of `externals` that computes the pending program's outputs through a
    program padded to a bucket length, or None (run it as it is)."""
    family = (tuple([(op, _erase(params), refs, multi) for op, params, refs, multi in program]),
              outputs, tuple([len(s) for s in map(_shape, externals)]))
    ints = _ints(program, externals)
    old, lengths_seen = _families.get(family) or (None, 0)
    if old is None or old == ints:
        _families[family] = (ints, lengths_seen)
        return None
    _families[family] = (ints, lengths_seen + 1)
    changed = {(o, n) for o, n in zip(old, ints) if o != n}
    if len(changed) != 1:
        return None
    (t0, length), = changed
    if lengths_seen < 1 and length != t0 + 1:
        # a structure met at two sizes only (a training batch and a smaller last
        # batch) runs as it is: padding starts at its third size, once it keeps
        # changing, or at its second where it grew by one (generation's next token)
        return None
    symbolic = [o == t0 and n == length for o, n in zip(old, ints)]
    try:
        return _padded(program, outputs, externals, symbolic, length)
    except Exception:       # NotPaddable, or a padded shape an op rejects: run it as it is
        return None


class Varying:
    """A pending-graph structure whose jitted program met several input shapes (the
    graph holds no length in its parameters): each new shape looks for a padded program."""
    __slots__ = ("jitted", "_runners")

    def __init__(self, jitted):
        self.jitted = jitted
        self._runners = LRU(64)     # input shapes -> padded call, or the jitted program

    def runner(self, program, outputs, externals):
        shapes = tuple(map(_shape, externals))
        run = self._runners.get(shapes)
        if run is None:
            run = self._runners[shapes] = (padded_call(program, outputs, externals)
                                           or self.jitted)
        return run


def _shape(external):
    """An input's shape; () for a Python number or an absent optional input (None)."""
    return getattr(external, "shape", ())


def _erase(v):
    """Parameters with their integers erased (an op's parameters are nested tuples,
    mostly (name, value) pairs)."""
    if type(v) is int:
        return None
    if type(v) is tuple:
        return tuple(_erase(x) for x in v)
    return v


def _param_ints(v, out):
    if type(v) is int:
        out.append(v)
    elif type(v) is tuple:
        for x in v:
            _param_ints(x, out)


def _ints(program, externals):
    """The integers of a graph in a fixed order: its ops' parameters, then its inputs'
    shapes."""
    out = []
    for _, params, _, _ in program:
        _param_ints(params, out)
    for e in externals:
        out.extend(_shape(e))
    return tuple(out)


def _padded(program, outputs, externals, symbolic, length):
    size = bucket(length)
    marks = iter(symbolic)
    new_program, op_marks = [], []
    for op, params, refs, multi in program:
        marked = []
        new_params = _substitute(params, marks, size, marked, [None, 0])
        new_program.append((op, new_params, refs, multi))
        op_marks.append(tuple(marked))
    ext_axes = [frozenset(i for i, _ in enumerate(_shape(e)) if next(marks)) for e in externals]
    for e, axes in zip(externals, ext_axes):
        if axes and e.size > MAX_PAD_ELEMENTS:
            raise NotPaddable
    fixes, out_axes, out_extra = _check(new_program, outputs, externals, ext_axes, op_marks,
                                        size)
    key = (tuple(new_program), outputs, fixes)
    fn = _programs.get(key)
    if fn is None:
        fn = _programs[key] = jax.jit(functools.partial(_run_padded, *key))
    pads = tuple((i, tuple(sorted(axes))) for i, axes in enumerate(ext_axes) if axes)
    cuts = tuple((i, tuple(sorted(axes)), extra)
                 for i, (axes, extra) in enumerate(zip(out_axes, out_extra)) if axes)
    return functools.partial(_call, fn, pads, cuts, size, length)


def _substitute(v, marks, size, marked, where):
    """Parameters `v` with their symbolic integers replaced by the bucket size. `where` is
    [the (name, value) parameter we are in, count of integers met in it]; each replaced
    one goes into `marked` as (name, its position among the parameter's integers)."""
    if type(v) is int:
        where[1] += 1
        if next(marks):
            marked.append((where[0], where[1] - 1))
            return size
        return v
    if type(v) is tuple:
        if len(v) == 2 and type(v[0]) is str:
            return (v[0], _substitute(v[1], marks, size, marked, [v[0], 0]))
        return tuple(_substitute(x, marks, size, marked, where) for x in v)
    return v


def _call(fn, pads, cuts, size, length, externals):
    """The padded program on `externals`, padded to `size` (`pads`: which inputs along
    which axes); its outputs cut back to `length` (`cuts`, likewise; an output that
    appended `extra` elements to a padded input is cut to `length + extra`)."""
    externals = list(externals)
    for i, axes in pads:
        externals[i] = _pad_on_host(externals[i], axes, size)
    values = fn(externals, length)
    if cuts:
        values = list(values)
        for i, axes, extra in cuts:
            values[i] = _cut(values[i], axes, length + extra)
    return values


def _pad_on_host(array, axes, size):
    # on the host: a pad in XLA would itself compile once per length
    host = np.asarray(array)
    padded = np.zeros([size if i in axes else n for i, n in enumerate(host.shape)], host.dtype)
    padded[tuple(slice(0, n) for n in host.shape)] = host     # (np.pad: 3x the time)
    return on_device_of(padded, array)


def _cut(array, axes, length):
    """A padded output's real part, copied through the host unless it is large and on an
    accelerator: slicing it by XLA compiled a program at every length, which on a GPU
    cost more than the whole padded program saved (a GPT's generated tokens, one length
    after another), where the copy to the host and back takes microseconds."""
    limits = [length if i in axes else n for i, n in enumerate(array.shape)]
    if array.size <= MAX_PAD_ELEMENTS or next(iter(array.devices())).platform == "cpu":
        return on_device_of(np.asarray(array)[tuple(slice(0, n) for n in limits)], array)
    return jax.lax.slice(array, [0] * array.ndim, limits)


def _run_padded(program, outputs, fixes, externals, length):
    from ._lazy import run_program
    fixes = dict(fixes)

    def adjust(i, args):
        fix = fixes.get(i)
        if type(fix) is Append:
            _append_at(args, fix, length)
        else:
            for position, axis in fix or ():
                args[position] = _zero_beyond(args[position], axis, length)
    return run_program(program, outputs, externals, adjust)


class Append(collections.namedtuple("Append", "axis extra dtype")):
    """The fix of a `cat` whose first input is padded along the axis it joins on: the
    other inputs (`extra` elements along it) go at the real length, not after the
    padding, and the output's real length is the length plus `extra`."""


def _append_at(args, fix, length):
    """Arguments of a padded `cat` that put its other inputs right after the first one's
    real part: the first becomes the whole result, the others empty."""
    head = args[0].astype(fix.dtype)
    tail = jnp.concatenate([a.astype(fix.dtype) for a in args[1:]], axis=fix.axis)
    room = list(head.shape)
    room[fix.axis] = fix.extra
    joined = jnp.concatenate([head, jnp.zeros(room, fix.dtype)], axis=fix.axis)
    start = [0] * head.ndim
    start[fix.axis] = length
    args[0] = jax.lax.dynamic_update_slice(joined, tail, start)
    args[1:] = [jax.lax.slice_in_dim(a, 0, 0, axis=fix.axis) for a in args[1:]]


def _zero_beyond(x, axis, length):
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    real = jnp.arange(x.shape[axis]).reshape(shape) < length
    return jnp.where(real, x, jnp.zeros((), x.dtype))


# -- output shapes at a new length without tracing -----------------------------------------
def avals_by_length(op, params, in_avals, trace):
    """The output avals of `op` for inputs `in_avals` ((shape, dtype), or a Python
    scalar's type), derived from the same op's last call at another length, or from
    `trace(op, params)` (jax.eval_shape, 0.4-2 ms an op: a forward over a new length
    spent more time there than in its compile).

    Derived only for ops of `_RULES`, whose output dimensions are copies of input
    dimensions or parameters and whose shape checks compare dimensions for equality,
    and only when the two calls differ by one consistent substitution t0 -> T (both
    at least 2, neither equal to any unchanged integer of the call): then each
    equality holds at T as it did at t0, and the outputs' dimensions equal to t0 are
    exactly the copies of the length. A `view`'s check compares products, so it must
    hold the length as many times as its input does."""
    family = (op, _erase(params), tuple([(len(a[0]), a[1]) if type(a) is tuple else a
                                         for a in in_avals]))
    ints = []
    _param_ints(params, ints)
    n_params = len(ints)
    for a in in_avals:
        if type(a) is tuple:
            ints.extend(a[0])
    recent = _avals.get(family)
    if recent is None:
        recent = _avals[family] = collections.deque(maxlen=8)
    for last in recent:
        avals = _substituted(op, params, last, ints, n_params, in_avals)
        if avals is not None:
            break
    else:
        avals = trace(op, params)
    recent.appendleft((ints, avals))
    return avals


# op family -> (integers, output avals) of its last calls: one op of a model is called
# with several weights' shapes (a linear layer of each size)
_avals = LRU(4096)


def _substituted(op, params, last, ints, n_params, in_avals):
    old_ints, (multi, old_avals) = last
    if op.name not in _RULES or op.name in _SUMMED or len(old_ints) != len(ints):
        return None
    changed = {(o, n) for o, n in zip(old_ints, ints) if o != n}
    if len(changed) != 1:
        return None
    (t0, length), = changed
    if t0 < 2 or length < 2 or any(o == n and n in (t0, length) for o, n in zip(old_ints, ints)):
        return None
    if op.name == "view":
        shape = dict(params)["shape"]
        if sum(n == length for n in in_avals[0][0]) != sum(n == length for n in shape):
            return None
    elif any(o != n for o, n in zip(old_ints[:n_params], ints)):
        return None     # a length in a parameter may be arithmetic (split's bounds)
    return multi, tuple((tuple(length if n == t0 else n for n in shape), dtype)
                        for shape, dtype in old_avals)


# -- which padded axes each op's outputs have, or NotPaddable -------------------------------
def _check(program, outputs, externals, ext_axes, op_marks, size):
    """Propagate the padded axes through the padded program by `_RULES`; the fixes it
    applies (rows of attention inputs to zero). Shapes here are the padded ones."""
    from ._lazy import output_avals
    results, fixes = [], []
    appended = {}       # (op, output) -> elements a padded cat appended after the length
    for i, ((op, params, refs, multi), marked) in enumerate(zip(program, op_marks)):
        specs, axes = [], []
        for r in refs:
            if r[0] == 0:
                spec, a = results[r[1]][r[2]]
                if (r[1], r[2]) in appended:
                    raise NotPaddable      # (its real length is not the length)
            else:
                spec, a = externals[r[1]], ext_axes[r[1]]
                if a:
                    shape = tuple(size if k in a else n for k, n in enumerate(spec.shape))
                    spec = jax.ShapeDtypeStruct(shape, spec.dtype)
            specs.append(spec)
            axes.append(a)
        rule = _RULES.get(op.name)
        if rule is None:
            if any(axes) or marked:
                raise NotPaddable
            out_axes, fix = None, None
        else:
            out_axes, fix = rule(dict(params), [_shape(s) for s in specs], axes, marked, size)
        if fix:
            fixes.append((i, fix))
            if type(fix) is Append:
                appended[i, 0] = fix.extra
        _, avals = output_avals(op, params, specs)
        results.append([(jax.ShapeDtypeStruct(shape, dtype), out_axes or frozenset())
                        for shape, dtype in avals])
    return (tuple(fixes), [results[i][k][1] for i, k in outputs],
            [appended.get((i, k), 0) for i, k in outputs])


def _broadcast(shapes, axes):
    """The padded axes of an elementwise op's output (inputs aligned from the right)."""
    ndim = max(len(s) for s in shapes)
    out = set()
    for s, a in zip(shapes, axes):
        out.update(i + ndim - len(s) for i in a)
    for s, a in zip(shapes, axes):
        shift = ndim - len(s)
        for axis in out:
            i = axis - shift
            if 0 <= i < len(s) and i not in a and s[i] != 1:
                raise NotPaddable      # a padded axis meets an unpadded one
    return out


def _fixed_params(rule):
    """Rules for ops whose parameters never hold a length."""
    @functools.wraps(rule)
    def checked(params, shapes, axes, marked, size):
        if marked:
            raise NotPaddable
        return rule(params, shapes, axes)
    return checked


@_fixed_params
def _elementwise(params, shapes, axes):
    return frozenset(_broadcast(shapes, axes)), None


@_fixed_params
def _embedding(params, shapes, axes):            # (weight, indices)
    if axes[0]:
        raise NotPaddable
    return axes[1], None


@_fixed_params
def _layer_norm(params, shapes, axes):           # (x, weight?, bias?) over the last ndims
    ndim = len(shapes[0])
    if any(axes[1:]) or any(a >= ndim - params["ndims"] for a in axes[0]):
        raise NotPaddable
    return axes[0], None


@_fixed_params
def _linear(params, shapes, axes):               # (x, weight, bias?): contracts x's last axis
    if any(axes[1:]) or len(shapes[0]) - 1 in axes[0]:
        raise NotPaddable
    return axes[0], None


@_fixed_params
def _matmul(params, shapes, axes):
    (sa, sb), (aa, ab) = shapes, axes
    if len(sa) < 2 or len(sb) < 2 or len(sa) - 1 in aa or len(sb) - 2 in ab:
        raise NotPaddable          # 1-D operands, or a padded contraction axis
    out = _broadcast([sa[:-2], sb[:-2]], [frozenset(a for a in aa if a < len(sa) - 2),
                                          frozenset(a for a in ab if a < len(sb) - 2)])
    ndim = max(len(sa), len(sb))
    if len(sa) - 2 in aa:
        out.add(ndim - 2)
    if len(sb) - 1 in ab:
        out.add(ndim - 1)
    return frozenset(out), None


@_fixed_params
def _softmax(params, shapes, axes):              # mixes along `dim`
    if params["dim"] % len(shapes[0]) in axes[0]:
        raise NotPaddable
    return axes[0], None


@_fixed_params
def _reduce(params, shapes, axes):               # sum, mean, amax over `dims`
    ndim = len(shapes[0])
    dims = {d % ndim for d in params["dims"]} if params["dims"] else set(range(ndim))
    if dims & axes[0]:
        raise NotPaddable
    if params["keepdim"]:
        return axes[0], None
    return frozenset(a - sum(d < a for d in dims) for a in axes[0]), None


@_fixed_params
def _split(params, shapes, axes):
    if params["dim"] % len(shapes[0]) in axes[0]:
        raise NotPaddable
    return axes[0], None


@_fixed_params
def _permute(params, shapes, axes):
    return frozenset(params["dims"].index(a) for a in axes[0]), None


@_fixed_params
def _select(params, shapes, axes):               # (x, index): the index is already >= 0
    dim = params["dim"] % len(shapes[0])
    return frozenset(a - (a > dim) for a in axes[0] if a != dim), None


def _view(params, shapes, axes, marked, size):
    """A reshape keeps a padded axis whole when the elements before it are as many
    before and after (row-major order then maps each real position to itself)."""
    if not axes[0] and not marked:
        return frozenset(), None
    shape, new = shapes[0], params["shape"]
    if len(axes[0]) != 1 or len(marked) != 1 or marked[0][0] != "shape":
        raise NotPaddable
    (axis,), j = axes[0], marked[0][1]
    if np.prod(shape[:axis]) != np.prod(new[:j]):
        raise NotPaddable
    return frozenset({j}), None


@_fixed_params
def _cat(params, shapes, axes):
    """Appending to a padded sequence along its padded axis (generation's next token,
    a growing cache): the first input padded there only, the others not padded."""
    dim = params["dim"]
    if params["skip"] or any(axes[1:]) or axes[0] - {dim}:
        raise NotPaddable
    if not axes[0]:
        return frozenset(), None
    return axes[0], Append(dim, sum(s[dim] for s in shapes[1:]), params["dtype"])


@_fixed_params
def _sdpa(params, shapes, axes):                 # (q, k, v)
    if params["mask_kind"] or params["dropout_p"] or params["gqa"]:
        raise NotPaddable
    seq = len(shapes[0]) - 2
    q, k, v = axes
    if not k and not v and q <= {seq}:
        return q, None             # padded queries, fixed keys: no row sees a padded one
    if params["is_causal"] and q == k == v == {seq}:
        return q, ((1, seq), (2, seq))
    raise NotPaddable


_ELEMENTWISE = (
    "add sub mul true_divide neg exp exp2 expm1 log log1p log2 log10 tanh sigmoid relu rsqrt "
    "sqrt reciprocal pow abs sign square sin cos tan sinh cosh asin acos atan atan2 erf erfc "
    "floor ceil trunc clamp isnan isinf isfinite where masked_fill to_copy clone maximum "
    "minimum eq ne lt le gt ge logical_and logical_or logical_not radd rsub rmul "
    "rtrue_divide rpow act_gelu act_silu act_elu act_leaky_relu act_softplus act_mish "
    "act_hardtanh act_hardsigmoid act_hardswish act_logsigmoid nn.gelu nn.silu nn.relu "
    "nn.elu nn.leaky_relu nn.softplus nn.mish nn.hardtanh nn.hardsigmoid nn.hardswish "
    "nn.logsigmoid").split()

_RULES = dict.fromkeys(_ELEMENTWISE, _elementwise)
_RULES.update({
    "embedding": _embedding, "nn.layer_norm": _layer_norm, "nn.rms_norm": _layer_norm,
    "linear": _linear, "nn.linear": _linear, "matmul": _matmul,
    "softmax": _softmax, "nn.softmax": _softmax,
    "sum": _reduce, "mean": _reduce, "amax": _reduce,
    "split": _split, "permute": _permute, "select": _select, "view": _view,
    "nn.sdpa": _sdpa, "cat": _cat,
})
# ops whose output dimensions are not copies of input dimensions or parameters (a cat's
# is a sum): their output shapes at a new length are traced, never substituted
_SUMMED = frozenset({"cat"})
