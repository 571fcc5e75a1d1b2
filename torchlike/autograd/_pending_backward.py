"""A plain backward's fused call, left pending in _lazy's graph.

`loss.backward()` builds its fused vjp program (engine.py) but does not call it: the
call becomes one multi-output pending op whose outputs are the leaves' summed
gradients (stored into `.grad` as pending values) and the roots' values. Whatever
reads them later computes them: reading a `.grad` (one program: the pending forward
inputs and the backward), or the optimizer's `step()`, which runs its update in the
same program (optim/_step_program.py). Inside that program the jitted vjp is inlined,
so a training step is one XLA program.

A root's pending value (the loss) is handed to the same call: its Deferred becomes an
output of the backward's call, so `loss.item()` after the step costs nothing more, and
the forward is not computed a second time outside the vjp.
"""
import sys
import weakref

import jax

from .. import _lazy


class _FusedBackward:
    """The op of the pending call: bind((fn, n_diff, n_const, n_cotangents, has_old))
    gives the jitted vjp `fn` as a function of the call's flat inputs (leaf values,
    constants, cotangents, the existing .grads), returning its flat outputs (the
    gradients, then the roots' values asked for)."""
    name = "fused_backward"

    @staticmethod
    def bind(params):
        fn, n_diff, n_const, n_cotangents, has_old = params

        def call(*arrays):
            a, b = n_diff, n_diff + n_const
            c = b + n_cotangents
            olds = iter(arrays[c:])
            old = tuple([next(olds) if h else None for h in has_old])
            grads, values, _ = fn(arrays[:a], arrays[a:b], arrays[b:c], old, ())
            return (*grads, *values)
        return call


FUSED_BACKWARD = _FusedBackward()


def defer(fn, diff_vals, const_vals, cotangents, old, roots):
    """The pending call of `fn` (engine._fused_vjp jitted, without a prelude: pending
    inputs stay Deferred inputs of the call). Returns the gradients' Deferreds; each
    pending root value in `roots` (single-output Deferreds) becomes an output too."""
    has_old = tuple([o is not None for o in old])
    inputs = [*diff_vals, *const_vals, *cotangents, *[o for o in old if o is not None]]
    outs = _lazy.defer(FUSED_BACKWARD, (fn, len(diff_vals), len(const_vals), len(cotangents),
                                        has_old), inputs)
    n = len(outs) - len(roots)
    call = outs[0].call
    refs = list(call.outs)
    read = {id(a) for a in inputs}
    for k, d in enumerate(roots):
        if d.call is None and d._value is None and id(d) not in read:   # (no cycle)
            # d's own pending op is dropped: the forward's values the replay computes
            # are not computed again (its inputs are let go, as install does)
            d.call, d.index = call, n + k
            d.op = d.params = d.inputs = None
            refs[n + k] = weakref.ref(d)
    call.outs = tuple(refs)
    return outs[:n]


# -- parameters the step's program may overwrite --------------------------------------
# The optimizer's step may write a parameter's new value into its old buffer (donate
# it) only where nothing can read the old value later. After a plain backward without
# retain_graph, what typically still holds it is the pending backward itself (computed
# in the same program) and the backward's freed graph: its nodes that save nothing keep
# their input arrays, and through them the forward's pending values, which hold the
# parameters. A later backward through those nodes alone still works (as in PyTorch);
# its gradients cannot depend on their values (an op that saves nothing has gradients
# independent of its inputs' values), so those holders are handed the new array. Where
# anything else may read it (a tensor, a pending value that a tensor holds, a retained
# graph), the parameter first gets a copy of its own, which is donated instead.
#
# gradient's Deferred -> (its pending call, weak references to the graph's nodes that
# still hold arrays: the graph lives as long as its user keeps it, not for this)
_freed_graphs = weakref.WeakKeyDictionary()


def remember_freed_graph(grads, nodes):
    """The gradients `grads` (Deferreds of one pending call) come from a graph freed by
    its backward: note its nodes that still hold arrays (for `donatable`)."""
    if not grads:
        return
    entry = (grads[0].call, [weakref.ref(node) for node in nodes if node.arrays is not None])
    for g in grads:
        _freed_graphs[g] = entry


class _Holders:
    """The references that the pending backward `call` and its freed graph's `nodes`
    (directly or through pending values only they hold) make to each object, by id;
    `internal` is False when a pending value they reach is held from elsewhere."""

    def __init__(self, call, nodes):
        self.nodes = nodes
        self.sequences = [call.inputs, *[node.arrays for node in nodes]]
        self.pending = {}            # id -> Deferred reached from the nodes
        stack = [a for node in nodes for a in node.arrays if type(a) is _lazy.Deferred]
        while stack:
            d = stack.pop()
            if id(d) in self.pending:
                continue
            self.pending[id(d)] = d
            if d._value is None:
                inputs = (d.call or d).inputs
                self.sequences.append(inputs)
                stack.extend([a for a in inputs if type(a) is _lazy.Deferred])
        self.count = {}
        for seq in self.sequences:
            for x in seq:
                self.count[id(x)] = self.count.get(id(x), 0) + 1
        x = d = None           # (a reference from this frame would count as a holder)
        self.internal = True
        for d in self.pending.values():
            # references: pending's, the loop's `d`, getrefcount's argument
            if sys.getrefcount(d) - 3 != self.count.get(id(d), 0):
                self.internal = False
                break
        for d in self.pending.values():        # a computed one holds its array
            if d._value is not None:
                self.count[id(d._value)] = self.count.get(id(d._value), 0) + 1
        d = None

    def only_holders_of(self, storage):
        return self.internal and _references(storage) == \
            _ONE_HOLDER + self.count.get(id(storage.array), 0)

    def adopt(self, new_arrays):
        """Every reference these holders make to an old array refers to its new one
        instead (`new_arrays`: id of the old array -> the new array)."""
        for node in self.nodes:
            if node.arrays is not None and any([id(x) in new_arrays for x in node.arrays]):
                node.arrays = tuple([new_arrays.get(id(x), x) for x in node.arrays])
        for d in self.pending.values():
            if d._value is not None:
                d._value = new_arrays.get(id(d._value), d._value)
                continue
            call = d.call or d
            if any([id(x) in new_arrays for x in call.inputs]):
                call.inputs = tuple([new_arrays.get(id(x), x) for x in call.inputs])


def donatable(params):
    """For each parameter of `params` whose gradient is an output of a pending backward
    (the step's program computes both): (its array, which the step's program may
    overwrite, and the _Holders to hand the new one, or None); for the others None.
    A parameter whose old array something else may read is first given a copy of its
    own (the backward reads it too), so that the program does not change with who holds
    what (a first step's parameters share the arrays of equal constants)."""
    found, holders = [], {}
    for p in params:      # a computed Deferred (a first step's parameter) stands for its
        a = p._storage.array         # array, as _data() makes it
        if p._whole and type(a) is _lazy.Deferred and a._value is not None:
            p._storage.array = a._value
    a = None
    for p in params:
        g, st = p.grad._storage.array, p._storage
        entry = _freed_graphs.get(g) if type(g) is _lazy.Deferred and p.grad._whole else None
        if (entry is None or entry[0] is not g.call or not p._whole
                or type(st.array) is _lazy.Deferred):
            found.append(None)
            continue
        call, refs = entry
        h = holders.get(id(call))
        if h is None:
            nodes = [node for node in map(_alive, refs) if node is not None]
            h = holders[id(call)] = _Holders(call, nodes)
            nodes = None
        if h.only_holders_of(st):
            found.append((st.array, h))
            continue
        old = st.array
        st.array = jax.device_put(old, may_alias=False)
        call.inputs = tuple([st.array if x is old else x for x in call.inputs])
        found.append((st.array, None))
    return found


def _alive(ref):
    node = ref()
    return node if node is not None and node.arrays is not None else None


def _references(storage):
    """References to storage.array, less this function's own."""
    array = storage.array
    return sys.getrefcount(array) - 2      # (this frame's `array`, getrefcount's argument)


class _OneHolder:
    __slots__ = ("array",)


def _one_holder():
    holder = _OneHolder()
    holder.array = object()
    return _references(holder)


_ONE_HOLDER = _one_holder()
