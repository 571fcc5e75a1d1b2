"""Deferred values: ops recorded for autograd run later, fused into one compiled call.

JAX's op-by-op dispatch costs several microseconds per call, several times PyTorch's.
But when an op is recorded for autograd, its value is often never looked at before
backward, and the fused backward recomputes the forward anyway. So a recorded op does
not run: its output holds a `Deferred` (op, static params, inputs, and the output's
shape/dtype from a cached `jax.eval_shape`). Reading the value (printing, `.item()`,
an op that is not deferred, ...) materializes every pending op it depends on in one
jitted call, cached under the structure of the pending graph.

Pending graphs have a depth limit, and runs of fusible ops a length limit, so that a
loop that never looks at its values materializes in bounded, repeated (hence cached)
pieces. Pending inputs of a backward
are computed inside the fused backward's own call (autograd/engine.py, `_prelude`).
"""
import functools
import sys
import weakref

import jax
from jax._src.array import ArrayImpl as _ArrayImpl     # a concrete jax.Array's class
from jax._src import core as _jax_core
from jax._src.core import trace_ctx as _trace_ctx

from . import _caches, _small_programs
from ._caches import LRU, release_if_over_budget
from ._device import scalar_arg
from ._growing import Varying, avals_by_length, padded_call

ENABLED = True
# Ops that record no history defer too (no_grad code, hand-written updates), so that
# they join the next compiled call instead of costing an XLA dispatch each.
DEFER_UNRECORDED = True

# A pending graph deeper than this is materialized in pieces, so that a loop that never
# looks at its values compiles bounded, repeated (hence cached) programs. Deep enough
# for a whole model's forward: a cut forces values the fused backward computes again.
# (Depth, not node count: counting nodes per input would count a shared subgraph, a
# residual connection, once per use.)
MAX_DEPTH = 256
# ... and a run of ops that XLA may fuse (the longest path since a contraction, which
# XLA's CPU backend hands to a library kernel: matmul, convolution, attention) longer
# than this is cut too. A cut hands out every value something holds (the saved
# activations), and XLA's CPU compiler recomputes a fusible run in the fusion of each
# output it feeds: a 96-op sin/cos chain with every value an output compiles in 2 s,
# 256 ops in 10 s. A model's runs are short (its layers are contractions), so its
# forward is cut by depth alone: a 12-layer GPT-style forward (depth 198) was cut
# twice at depth 96, which cost 15-30% of its step.
MAX_RUN = 96
# A materialization with more outputs than this, some of them further than this along a
# fusible run (a `sin` or `cos` saves its input, so in a chain of them every value is
# held), computes them in pieces of this many outputs, in order, each piece a program
# of its own: XLA's CPU compiler fuses the run into each output's kernel, so a 96-op
# sin/cos chain with its 96 values as outputs compiled 96 kernels of up to 96 ops (1.5
# s); six pieces of 16 share one program where the chain repeats (0.17 s). A model's
# runs are short (its layers are contractions): its cuts stay one program.
SPLIT_OUTPUTS = 16
_CONTRACTION_NAMES = frozenset((
    "addmm", "einsum", "inner", "linear", "matmul", "multi_dot", "tensordot", "vdot",
    "nn.bilinear", "nn.convolution", "nn.linear", "nn.multi_head_attention", "nn.rnn",
    "nn.rnn_cell", "nn.sdpa"))


def _top_level_reader():
    """A function telling whether JAX is not tracing: jax's own `is_top_level` reads its
    two states through properties; reading them directly halves its cost (about 0.1 us,
    and every op asks)."""
    try:
        trace, axis_env = _jax_core.trace_state_strong_ref, _jax_core.axis_env_state
        eval_trace, top_axis_env = _jax_core.eval_trace, _jax_core.top_axis_env
    except AttributeError:          # another jax's internals: its own answer
        return _trace_ctx.is_top_level

    def top_level():
        return trace.value is eval_trace and axis_env.value is top_axis_env
    return top_level


top_level = _top_level_reader()

PY_SCALARS = frozenset({bool, int, float, complex})     # Python numbers, by exact type

_shape_cache = LRU(16384)       # (op, params, input avals) -> output avals
_program_cache = LRU(1024)      # pending-graph structure -> jitted program
_caches.on_release.append(lambda: _small_programs.release(_program_cache))


class _Stats:
    materializations = 0
    traces = 0


stats = _Stats()


class Deferred:
    """A pending array: output `index` of calling op.bind(params) on `inputs`.

    The outputs of an op that returns several share one `_Call` (`call`). A single-output
    op's Deferred is its own call (`call` is None and the call's fields are its own): one
    object less per op, for the garbage collector to walk while the graph is pending."""
    __slots__ = ("call", "index", "shape", "dtype", "ndim", "_value",
                 "op", "params", "inputs", "depth", "run", "multi", "device", "node",
                 "__weakref__")

    def __init__(self, call, index, shape, dtype):
        self.call = call
        self.index = index
        self.shape = shape
        self.dtype = dtype
        self.ndim = len(shape)
        self._value = None
        self.node = None

    @property
    def size(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    def value(self):
        if self._value is None:
            materialize([self])
        return self._value

    def devices(self):
        return self.value().devices()


_new_deferred = Deferred.__new__


class _Call:
    """One pending application of an op with several outputs, shared by them."""
    __slots__ = ("op", "params", "inputs", "depth", "run", "multi", "device", "outs")

    def __init__(self, op, params, inputs, depth, run, multi, device):
        self.device = device      # where the op runs (its Python numbers are placed there)
        self.op = op
        self.params = params
        self.inputs = inputs      # arrays, Python scalars or Deferred
        self.depth = depth        # the longest chain of pending calls ending here
        self.run = run            # ... of them since a contraction (MAX_RUN)
        self.multi = multi        # the op returns a tuple
        self.outs = None          # a tuple op's outputs, weakly (plan computes them together)

    node = None                   # (see defer: only a single-output call is shared)


def _call_of(d):
    """The pending call that computes Deferred `d` (a _Call, or `d` itself)."""
    return d.call or d


def force(a):
    """The concrete value of an array that may be Deferred."""
    return a.value() if type(a) is Deferred else a


def _aval_key(a):
    shape = getattr(a, "shape", None)
    return type(a) if shape is None else (shape, a.dtype)


def _spec(a):
    if type(a) is Deferred or hasattr(a, "shape"):
        return jax.ShapeDtypeStruct(tuple(a.shape), a.dtype)
    return a


def output_avals(op, params, arrays):
    """Shapes/dtypes of op's outputs, cached per input shapes (no tracing when warm)."""
    key = (op, params, tuple([_aval_key(a) for a in arrays]))
    avals = _shape_cache.peek(key)
    if avals is None:
        avals = _shape_cache[key] = avals_by_length(op, params, key[2],
                                                    functools.partial(_traced_avals, arrays))
    return avals


def _traced_avals(arrays, op, params):
    out = jax.eval_shape(op.bind(params), *[_spec(a) for a in arrays])
    multi = isinstance(out, (tuple, list))
    outs = tuple(out) if multi else (out,)
    return multi, tuple((tuple(o.shape), o.dtype) for o in outs)


def defer(op, params, arrays, device=None):
    """Pending outputs of op(arrays): a Deferred, or a tuple of them."""
    # one pass builds both the shape-cache key (as _aval_key would) and the call's inputs:
    # this runs for every op
    depth = run = 0
    inputs = []
    key = []
    for a in arrays:
        if type(a) is Deferred:
            key.append((a.shape, a.dtype))
            if a._value is not None:
                a = a._value
            else:
                c = a.call or a         # (_call_of, inlined)
                if c.depth >= MAX_DEPTH or c.run >= MAX_RUN:
                    a = a.value()
                else:
                    if c.depth > depth:
                        depth = c.depth
                    if c.run > run:
                        run = c.run
        elif type(a) is _ArrayImpl:
            aval = a.aval             # (one C-level attribute; .shape/.dtype are Python)
            key.append((aval.shape, aval.dtype))
        elif type(a) in PY_SCALARS:
            key.append(type(a))       # (_aval_key's answer, without its failing getattr)
        else:
            key.append(_aval_key(a))
        inputs.append(a)
    avals = _shape_cache.peek((op, params, tuple(key)))
    multi, avals = avals if avals is not None else output_avals(op, params, arrays)
    run = 0 if op.name in _CONTRACTION_NAMES else run + 1
    if not multi:
        shape, dtype = avals[0]
        return _single(op, params, tuple(inputs), depth + 1, run, shape, dtype, device)
    call = _Call(op, params, tuple(inputs), depth + 1, run, multi, device)
    outs = tuple([Deferred(call, i, shape, dtype) for i, (shape, dtype) in enumerate(avals)])
    call.outs = tuple([weakref.ref(d) for d in outs])
    return outs


def defer_known(op, params, arrays, device, shape, dtype):
    """defer() of a single-output op whose output shape and dtype the caller knows (and
    whose arguments it has checked): no shape-cache key is built and no lookup made. For
    ops recorded several times per layer of every step (a linear layer's transposed
    weight, its flattened input and output)."""
    depth = run = 0
    inputs = []
    for a in arrays:
        if type(a) is Deferred:
            if a._value is not None:
                a = a._value
            else:
                c = a.call or a
                if c.depth >= MAX_DEPTH or c.run >= MAX_RUN:
                    a = a.value()
                else:
                    if c.depth > depth:
                        depth = c.depth
                    if c.run > run:
                        run = c.run
        inputs.append(a)
    return _single(op, params, tuple(inputs), depth + 1,
                   0 if op.name in _CONTRACTION_NAMES else run + 1, shape, dtype, device)


def _single(op, params, inputs, depth, run, shape, dtype, device):
    """The Deferred of a single-output op: its own call, every field set here without a
    call of Deferred.__init__ (this runs for every op)."""
    d = _new_deferred(Deferred)
    d.call = None
    d.index = 0
    d.shape = shape
    d.dtype = dtype
    d.ndim = len(shape)
    d._value = None
    d.op = op
    d.params = params
    d.inputs = inputs
    d.depth = depth
    d.run = run
    d.multi = False
    d.device = device
    # set by dispatch.apply: the graph node that keeps this same `inputs` tuple as its
    # saved arrays. plan counts that tuple as a holder from outside; install gives the
    # node a tuple of computed values, so that the Deferreds can go.
    d.node = None
    return d


def materialize(roots):
    """Compute the Deferred `roots` in one cached, jitted call. Every pending value the
    call computes on the way that something outside the pending graph still holds (a
    tensor, a node saved for backward, a pending op not in this call) is kept too, as
    eager execution would have it, so that later reads find it ready. A value that only
    pending ops of this call hold (the middle of a `no_grad` chain whose tensors are
    gone) is not an output: it would cost an output buffer and never be read.
    Many outputs along a long fusible run are computed in pieces (SPLIT_OUTPUTS)."""
    roots = [r for r in roots if r._value is None]
    if not roots:
        return
    release_if_over_budget()
    program, outputs, externals, wanted = plan(roots)
    if len(wanted) > SPLIT_OUTPUTS and \
            max([(d.call or d).run for d in wanted]) > SPLIT_OUTPUTS:
        # (a value's inputs come before it in the program: a piece needs only earlier
        # pieces, which are computed by then and enter its program as arrays; the roots
        # are among the pieces' values)
        order = sorted(range(len(wanted)), key=lambda k: outputs[k][0])
        pieces = [[wanted[k] for k in order[i:i + SPLIT_OUTPUTS]]
                  for i in range(0, len(order), SPLIT_OUTPUTS)]
        del program, outputs, externals, wanted, order, roots
        for piece in pieces:
            materialize(piece)
        return
    stats.materializations += 1
    key = (program, outputs)
    fn = _program_cache.get(key)
    top = top_level()
    seen = fn is not None and type(fn) is not Varying    # (its program ran before)
    new = False
    if fn is None:
        # a structure met for the first time: the same one with a longer length (the
        # next token of generation) may reuse a padded program (_growing.py)
        fn = top and padded_call(program, outputs, externals)
        if not fn:
            fn = jax.jit(functools.partial(run_program, program, outputs))
            new = True
        _program_cache[key] = fn
    elif type(fn) is Varying:
        fn = fn.runner(program, outputs, externals) if top else fn.jitted
    # (a new program's first call may compile its quick form into the cache instead)
    run = functools.partial(_small_programs.first_call, fn, (externals,), _program_cache,
                            key) if new else functools.partial(fn, externals)
    if top:
        traces = stats.traces
        values = run()
        if seen and stats.traces != traces:
            # the structure's jitted program traced again: it meets new shapes
            _program_cache[key] = Varying(fn.jitted if type(fn) is _small_programs.Quick
                                          else fn)
    else:       # read inside a jax trace: these values outlive it, so stay concrete
        with jax.ensure_compile_time_eval():
            values = run()
    install(wanted, values)


def plan(roots):
    """The pending ops the (pending) Deferred `roots` need, as a hashable program:
    (program, outputs, externals, wanted). `run_program(program, outputs, externals)`
    computes the values of `wanted`: the roots and every pending Deferred met on the way
    that is held outside the pending graph."""
    # `index` is keyed by id(call): a single-output Deferred is its own call, and a
    # reference from here would count as one from outside (_held_elsewhere)
    program, externals, index = [], [], {}
    seen = {id(r): r for r in roots}     # every pending Deferred met: id -> Deferred
    uses = {}                 # id -> references to it from the inputs of the calls planned
    # one argument per distinct float object: the same number read by many calls (the
    # 1.001 of `y * 1.001` in a loop) is converted and passed once. (Not ints, which
    # Python shares by value, nor arrays, which caches share by value: merging those
    # would make the program's structure depend on values, and compile per coincidence.)
    slot_of = {}              # (id of a float, id of the call's device) -> its slot
    tuple_calls = []          # the planned calls of ops with several outputs
    expanded = set()          # ids of the calls whose inputs are on the stack
    stack = [_call_of(r) for r in roots]
    # An iterative post-order (inputs before their users): a call is entered into the
    # program when it is met the second time, its inputs then all placed.
    while stack:
        call = stack[-1]
        key = id(call)
        if key in index:
            stack.pop()
            continue
        if key not in expanded:
            expanded.add(key)
            for a in call.inputs:
                if type(a) is Deferred and a._value is None and id(a.call or a) not in index:
                    stack.append(a.call or a)
            continue
        stack.pop()
        refs = []
        # (a graph node sharing this call's input tuple is counted with the call: a value
        # only nodes hold stays pending, and the backward, which replays the forward
        # anyway, computes it only where it reads it)
        for a in call.inputs:
            if type(a) is Deferred:
                if a._value is None:
                    ka = id(a)          # (ids taken once: this runs for every planned input)
                    if ka in uses:
                        uses[ka] += 1
                    else:
                        seen[ka] = a
                        uses[ka] = 1
                    refs.append((0, index[ka if a.call is None else id(a.call)], a.index))
                    continue
                a = a._value
            if type(a) is float:
                float_key = (id(a), id(call.device))
                slot = slot_of.get(float_key)
                if slot is None:
                    slot = slot_of[float_key] = len(externals)
                    externals.append(scalar_arg(a, call.device))
                refs.append((1, slot))
                continue
            refs.append((1, len(externals)))
            externals.append(a if hasattr(a, "shape") else scalar_arg(a, call.device))
        index[key] = len(program)
        program.append((call.op, call.params, tuple(refs), call.multi))
        if type(call) is _Call:
            tuple_calls.append(call)       # (a _Call holds no Deferred)
    a = call = None      # (this frame's references would count as holders)
    wanted = list({id(r): r for r in roots}.values())    # (a prelude may list one twice)
    for r in wanted:
        uses.pop(id(r), None)
    wanted.extend(_held_elsewhere(seen, uses))
    wanted.extend(_live_siblings(tuple_calls, seen))
    outputs = tuple([(index[id(d.call or d)], d.index) for d in wanted])
    return tuple(program), outputs, externals, wanted


def _held_elsewhere(seen, uses):
    """The Deferreds of `uses` (id -> references from planned calls' inputs) that have
    more references than those, `seen`'s and this function's own."""
    held = []
    for key, n in uses.items():
        d = seen[key]
        # references: seen's value, `d`, getrefcount's argument, and the n input tuples
        if sys.getrefcount(d) > 3 + n:
            held.append(d)
    return held


def _live_siblings(tuple_calls, seen):
    """Outputs of the planned tuple ops that no planned call uses but something still
    holds (the other rows of `unbind` while a loop reads one): the call computes them
    anyway, and reading them later must not compile a program per output index."""
    live = []
    for call in tuple_calls:
        if call.outs is not None:
            for ref in call.outs:
                d = ref()
                if d is not None and d._value is None and id(d) not in seen:
                    live.append(d)
    return live


def install(wanted, values):
    """Give the Deferred `wanted` their computed `values`."""
    for d, v in zip(wanted, values):
        d._value = v
        d.call = None
    for d in wanted:
        node = d.node
        if node is not None:
            # the node saved this call's inputs: it keeps their values instead, and the
            # inputs' Deferreds can go (one object fewer per recorded op in a long graph)
            if node.arrays is d.inputs:
                node.arrays = tuple([a._value if type(a) is Deferred and a._value is not None
                                     else a for a in node.arrays])
            d.node = None
        d.inputs = None            # let the pending inputs go


def run_program(program, outputs, externals, adjust=None):
    """The values of `outputs` of the planned `program` on `externals` (traced by jit).
    `adjust(i, args)`, if given, may replace the arguments of the program's i-th op
    (a padded program zeroes rows there: _growing.py)."""
    stats.traces += 1
    results = []
    for i, (op, params, refs, multi) in enumerate(program):
        args = [results[r[1]][r[2]] if r[0] == 0 else externals[r[1]] for r in refs]
        if adjust is not None:
            adjust(i, args)
        y = op.bind(params)(*args)
        results.append(tuple(y) if multi else (y,))
    return tuple(results[i][k] for i, k in outputs)
