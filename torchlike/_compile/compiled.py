"""torchlike.compile: a Python function traced once per guard set into one jax.jit program.

Each call:
1. finds the function's state (state.py) and computes its guard: the arguments' shapes,
   dtypes and devices, Python arguments, grad mode, and the structure and Python values
   of the state (which `.grad`s exist, optimizer state, module.training, lr ...); in
   steady state the last call's guard plan (plan.py) stands in for both, checked by
   identity and metadata in a few C-level passes;
2. on a guard it has seen, runs that entry's program on the arrays of the state's
   storages and the arguments, and installs the results: storages get their new arrays,
   tensor slots get new tensors (a fresh `.grad`, optimizer state), Python slots the
   values the function gave them when it was traced;
3. on a new guard, traces the function with tracers in every storage (autograd records
   on tracers, so backward() and optimizer.step() inside join the program), then runs it.
   A first trace takes the optimizer state as the first step makes it (first_step.py)
   and placeholder `.grad`s (first_grads.py), so a training step traces and compiles
   once, although its first call has no `.grad`s or optimizer state yet; guards whose
   XLA programs are the same text share one (`_shared`).

A function that needs a value on the host (`.item()`, `if x.sum() > 0`) cannot be one
program. With fullgraph=False it splits there: the ops before the break run as one
prefix program, the rest eagerly (split.py); with fullgraph=True it raises naming the
line. After `recompile_limit` distinct guards the function runs eagerly with PyTorch's
logged warning; unless dynamic=False, guards that differ only in sizes count as one (each
shape still gets its own program, XLA's programs having static shapes).
"""
import contextlib
import functools
import gc
import hashlib
import operator
import sys
import types
import weakref

import jax
import jax.extend.core

from .. import _jax_bridge as bridge
from .. import _caches, _lazy, _small_programs
from .._caches import LRU
from .._lazy import Deferred, force
from .._storage import Storage, write_scope
from .. import _symbolic
from .._jax_bridge import CAPTURED, SPECULATIVE
from .._symbolic import SymNumber, python_value, symbol
from .._tensor import Tensor
from ..autograd import engine
from ..autograd.grad_mode import is_grad_enabled
from . import aliases, breaks, config, first_grads, first_step
from .autograd_node import consumed, join_graph
from .breaks import (BREAKS, CONVERTED, ESCAPED, OUTSIDE_WRITE, GraphBreak, SpeculationFailed,
                     disabled, is_compiling, log, note_break, print_breaks)
from .breaks import symbol_trouble as _symbol_trouble
from .effects import Snapshot, counting, harvest
from .guards import GuardKey, collect, leaf_sig, shapes_left_out
from .plan import GuardPlan, version_counters
from .plan import getter as _getter
from .pending import call_as_op
from .split import OpLog, replaying
from .stance import current as current_stance, recompile_error
from .state import _SCALARS, NUMBERS, CellValues, discover, function_roots


_NOT_ROOTS = (Tensor,) + _SCALARS
_NO_ARGUMENTS = jax.tree_util.tree_structure(((), {}))
_ARRAY = operator.attrgetter("array")
_NO_LOWERING = contextlib.nullcontext()     # (reusable: a steady call makes none)
_MISS = object()        # (a steady call that takes the full path after all)


class _Entry:
    """One traced program and what to do with its results."""

    def __init__(self):
        self.eager = False        # a break that cannot split: this guard runs eagerly
        self.split = None         # a graph break: the op log of the prefix (split.py)
        self.split_break = None
        self.prints_muted = [False]     # a split's prefix does not print (breaks.py)
        self.program = self.flat = None
        self.out_tree = None
        self.donate = ()
        self.alias = ()           # storages sharing one 0-dim array (aliases.py)
        self.alias_holds = aliases.holds(())
        self.slot_of = None       # each storage's program input
        self.reads = frozenset()  # the storages whose arrays the program reads
        self.reset()

    def reset(self):
        """What a trace finds (set by CompiledCallable._trace)."""
        self.changed = []         # storages the function wrote
        self.new_slots = []       # indices of the tensor slots it filled with new tensors
        self.new_meta = []        # (device, requires_grad) of each new tensor
        self.none_slots = []      # slots it emptied
        self.grads_replaced = set()   # ids of the tensors whose `.grad` it filled or emptied
        self.scalar_after = []    # (Python slot index, value) it wrote
        self.symbol_slots = []    # Python slots it set to a number .item() read: the
        # program's last results
        self.draws = []           # draws per generator
        self.out_static = None    # non-tensor results (constants of the trace)
        self.out_devices = None
        self.out_numbers = None   # the Python type of each result that is a symbol
        self.out_grad = []        # which tensor results require grad
        self.out_live = []        # ... and can still be differentiated outside
        self.structural = False   # the trace added containers (first optimizer step)
        self.remove_added = None  # ... and this takes them out again
        self.pullbacks = LRU(8)   # which inputs are differentiated -> jitted vjp
        self.consumed_node = None  # (weakref to its input, node) for consumed results
        # (autograd_node._graded_positions)
        self.graded_at = self.graded_live = self.graded_reach = self.graded_mask = None
        self.unflatten_results = None     # the result's flat leaves -> the result
        self.bumped = None        # indices of the tensors whose storage it writes
        self.expand_out = None    # changed storage -> its output, where some share one

    def build(self, trace, in_arrays, counters, programs, alias):
        """Trace once (to a jaxpr) and make the program, or take the one in `programs`
        (digest -> program) that is the same; the storages it writes are donated, so
        XLA updates them in place, unless a result can be differentiated outside (its
        backward reads the inputs again). Storages that share an array (`alias`) share
        one input."""
        self.alias = alias
        self.alias_holds = aliases.holds(alias)
        self.slot_of, firsts = aliases.layout(alias, len(in_arrays))
        self.unique = _getter(firsts)
        closed, shapes = jax.make_jaxpr(trace, return_shape=True)(
            [in_arrays[k] for k in firsts], counters)
        self.out_tree = jax.tree_util.tree_structure(shapes)
        if self.split is None:      # (storages' arrays, new tensors' arrays, results)
            self.out_ends = (len(shapes[0]), len(shapes[0]) + len(shapes[1]))
        self.closed = closed
        self.flat = jax.extend.core.jaxpr_as_fun(closed)     # (every input: the pullback's)
        self.changed_set = frozenset(self.changed)
        self.changed_of = _getter(self.changed)     # storages -> those the program writes
        # the program takes only the inputs it reads: a step that sets its `.grad`s to None
        # does not read the previous ones, and each argument costs dispatch time
        used = _used_inputs(closed)
        # (picked from the storages' arrays and the counters, a shared array once)
        where = [firsts[u] if u < len(firsts) else len(in_arrays) + u - len(firsts)
                 for u in used]
        self.pick = _getter(where)
        self.picked = where         # (the storage or counter behind each program input)
        # (most programs draw no random numbers: then the counters are not put after the
        # arrays for `pick`)
        self.reads_counters = any(w >= len(in_arrays) for w in where)
        self.reads = frozenset(w for w in where if w < len(in_arrays))
        self.run_fn = self.flat if len(used) == len(closed.jaxpr.invars) else \
            jax.extend.core.jaxpr_as_fun(_keep_inputs(closed, used))
        position = {k: n for n, k in enumerate(where)}
        shared = {k for pair in alias for k in pair}
        self.donate = () if any(self.out_live) else \
            tuple(i for i in self.changed if i in position and i not in shared)
        self.donated = _getter(self.donate)
        self.program = _shared(programs, jax.jit(self.run_fn, donate_argnums=tuple(
            position[i] for i in self.donate)), self.pick(in_arrays + counters))

    def call(self, program, in_arrays, counters):
        return jax.tree_util.tree_unflatten(self.out_tree,
                                            program(*self.pick(in_arrays + counters)))

    def run(self, in_arrays, counters):
        # donating an array someone else still holds (a view's pending value, a saved
        # tensor of an eager graph, the cache of filled constants that fresh zeros and
        # ones come from) would delete it under them: such an array is copied and the
        # copy donated, so that one program serves every call. The references are the
        # storage, in_arrays, the tuple `donated` makes and getrefcount's argument.
        if self.donate and max(map(sys.getrefcount, self.donated(in_arrays))) > 4:
            for i in self.donate:
                if sys.getrefcount(in_arrays[i]) > 3:      # (no tuple here)
                    in_arrays[i] = jax.device_put(in_arrays[i], may_alias=False)
        # (the program's flat outputs cut in three: tree_unflatten's result, for less)
        flat = self.program(*self.pick(in_arrays + counters if self.reads_counters
                                       else in_arrays))
        a, b = self.out_ends
        return _Outputs(flat[:a], flat[a:b], flat[b:],
                        None if self.donate else list(self.unique(in_arrays)))


def _numbers_as_results(entry, state, leaves, born, mode):
    """The result's leaves, then the values of the Python slots the function set to a
    number .item() read, each such symbol a 0-d tensor whose value comes back as that
    Python number (entry.out_numbers); trouble where another symbol is still kept."""
    leaves = leaves + [state.scalar_slots[i].get() for i in entry.symbol_slots]
    if born and _symbolic.escaped(born, {id(x) for x in leaves}):
        _symbol_trouble(mode, ESCAPED, "a number .item() read is kept where the program "
                        "cannot give it its value (appended to a list, or set on an object "
                        "torchlike.compile does not follow)")
    entry.out_numbers = [x.python_type if isinstance(x, SymNumber) else None for x in leaves]
    return [Tensor._wrap(x._value, bridge.default_device()) if isinstance(x, SymNumber)
            else x for x in leaves]


def _flatten_results(result):
    """(leaves, a function of the leaves giving the result back) of a function's result:
    JAX's tree, or where the result holds a dict, PyTorch's pytree, which keeps the
    dict's key order where JAX's sorts the keys."""
    if _holds_dict(result):
        from ..utils import _pytree
        leaves, spec = _pytree.tree_flatten(result)
        return leaves, functools.partial(_unflatten_pytree, spec)
    leaves, treedef = jax.tree_util.tree_flatten(result, is_leaf=_is_tensor)
    return leaves, treedef.unflatten


def _unflatten_pytree(spec, leaves):
    from ..utils import _pytree
    return _pytree.tree_unflatten(leaves, spec)


def _holds_dict(tree):
    if isinstance(tree, dict):
        return True
    return isinstance(tree, (tuple, list)) and any(map(_holds_dict, tree))


def _is_tensor(x):
    return isinstance(x, Tensor)


def _shared(programs, program, args):
    """`program`, or the one an earlier trace made where XLA's program text and the
    arguments are the same (that one is compiled already). Two guards can trace one
    program: a step whose `.grad`s are None, and the same step with `.grad`s that it sets
    to None without reading them (when the first call's placeholder `.grad`s could not
    stay: first_grads.py). The lowering is the one a compile of
    `program` would make anyway (jax.jit keeps it); its text is hashed, not kept."""
    lowered = program.lower(*args)
    # (jax.jit leaves unused arguments out of XLA's program: the call's signature counts)
    text = str(lowered.args_info) + lowered.as_text()
    digest = hashlib.sha256(text.encode()).digest()
    found = programs.get(digest)
    if found is None:
        programs[digest] = found = _small_programs.quick(program, args, lowered) or program
    return found


def _arrays(storages):
    """The storages' arrays; pending values are computed now, all in one program (one
    compile, not one per storage)."""
    in_arrays = list(map(_ARRAY, storages))
    if Deferred in map(type, in_arrays):
        _lazy.materialize([a for a in in_arrays if type(a) is Deferred])
        for st in storages:
            if type(st.array) is Deferred:
                st.array = st.array.value()
        in_arrays = [st.array for st in storages]
    return in_arrays


def _used_inputs(closed):
    """The indices of the inputs a jaxpr reads (all of them when it has effects, which
    may refer to inputs by position)."""
    jaxpr = closed.jaxpr
    if jaxpr.effects:
        return list(range(len(jaxpr.invars)))
    read = {v for eqn in jaxpr.eqns for v in eqn.invars if isinstance(v, jax.extend.core.Var)}
    read.update(v for v in jaxpr.outvars if isinstance(v, jax.extend.core.Var))
    return [i for i, v in enumerate(jaxpr.invars) if v in read]


def _keep_inputs(closed, used):
    """The jaxpr taking only its inputs at `used` (the others are not read)."""
    jaxpr = closed.jaxpr
    info = jaxpr.debug_info
    names = info.arg_names
    if names is not None and len(names) == len(jaxpr.invars):
        info = info._replace(arg_names=tuple(names[i] for i in used))
    return jax.extend.core.ClosedJaxpr(
        jaxpr.replace(invars=[jaxpr.invars[i] for i in used], debug_info=info), closed.consts)


@contextlib.contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off while a trace and its lowering run. They
    make some 10^5 short-lived objects (tracers, jaxpr equations, MLIR operations), and
    the full collections those trigger walk the whole heap (torch, the model): in a fresh
    process, 140 of the transformer step's ~200 ms of trace and lowering (after an eager
    warm-up, full collections are rarer and it changes nothing measurable). What they make
    is freed by reference counts or by the next collection after."""
    if not gc.isenabled():      # (an inner trace, or a program that turned it off)
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _Outputs:
    __slots__ = ("storages", "new", "results", "inputs")

    def __init__(self, storages, new, results, inputs):
        self.storages, self.new, self.results, self.inputs = storages, new, results, inputs


class CompiledCallable:
    _live = None        # every compiled callable (weakly), for torchlike.compiler.reset
    # a pure call whose results join autograd runs as one pending op (pending.py)
    results_as_op = True

    def __init__(self, fn, fullgraph=False, dynamic=None, recompile_limit=None):
        self.fn = fn
        self.fullgraph = fullgraph
        self.dynamic = dynamic
        self.recompile_limit = recompile_limit
        self._torchlike_compiled_fn = fn       # (what compiler.disable unwraps)
        # dynamic=False: every shape is its own guard, counted against the limit; otherwise
        # the limit counts guards with shapes left out and the per-shape programs live in
        # a bounded cache (XLA compiles static shapes: a new shape still traces anew)
        self.entries = {} if dynamic is False else LRU(config.programs_per_function)
        self.families = set()
        self.programs = LRU(config.programs_per_function)     # text digest -> program
        self.limit_warned = False
        self._globals, self._cells, self._names = function_roots(fn, cells_as_slots=True)
        self._closures = list({id(g): g for g, _ in self._globals
                               if isinstance(g, CellValues)}.values())
        self._walk = None       # (state, ids of its roots, its fingerprint)
        self._plan = None       # the last call's guard plan (plan.py)
        self._fixed_root_ids = None     # (_root_ids)
        # a first trace fills in the optimizer state a first step makes (first_step.py),
        # until a trace shows that this function does not step
        self.fill_first_step = True
        # ... and placeholder `.grad`s (first_grads.py), until a trace reads them
        self.fill_grads = True
        # the Python slots (Slot.ident()) a trace set to a number .item() read: from then
        # on their numbers are program inputs, not guards (a loss kept on an attribute)
        self.dynamic_slots = frozenset()
        self.ran_eagerly = False    # a call that would trace ran eagerly (set_stance)
        # .item() kept in the program where PyTorch breaks the graph, until a trace of
        # this function needs such a number in Python (then traced as PyTorch's break)
        self.speculate = True
        functools.update_wrapper(self, fn)
        if CompiledCallable._live is None:
            CompiledCallable._live = weakref.WeakSet()
        CompiledCallable._live.add(self)

    @classmethod
    def release_small_programs(cls):
        """Let go of the small programs' executables (compiled code past the budget)."""
        for c in list(cls._live or ()):
            _small_programs.release(c.programs)

    @classmethod
    def reset_all(cls):
        for c in list(cls._live or ()):
            c.entries.clear()
            c.families.clear()
            c.programs.clear()
            c.fill_first_step = c.fill_grads = True
            c._walk = c._plan = None
            c.limit_warned = False

    # -- one call ------------------------------------------------------------------------
    def _roots(self, leaves):
        # (Python numbers are guards, not roots: a float computed anew each call has a
        # new id, which would make every call walk again)
        return [x for x in leaves if not isinstance(x, _NOT_ROOTS)] + self._cells + [self.fn]

    def _root_ids(self, leaves):
        """The ids of `_roots(leaves)`; those of a call whose arguments are all tensors
        and Python numbers (the closure's values and the function) are made once."""
        if leaves and any(not isinstance(x, _NOT_ROOTS) for x in leaves):
            return tuple(map(id, self._roots(leaves)))
        if self._fixed_root_ids is None:
            self._fixed_root_ids = tuple(map(id, self._roots(())))
        return self._fixed_root_ids

    def _state_for(self, leaves, args):
        """The state of this call: the last walk's, when its fingerprint still holds."""
        root_ids = self._root_ids(leaves)
        cached = self._walk
        if cached is not None and cached[1] == root_ids and \
                cached[2] == cached[0].fingerprint():
            state = cached[0]
        else:
            state = discover(self._roots(leaves), self._globals, self._names)
            state.dynamic = self.dynamic_slots
            self._walk = (state, root_ids, state.fingerprint())
        return state.for_call(args)

    def _guard(self, leaves, treedef, arg_tensors):
        """The full path: this call's state, its tensors and storages, and its guard."""
        state = self._state_for(leaves, arg_tensors)
        tensors, storages, owner, slot_sig = collect(state)
        key = GuardKey((treedef, tuple(leaf_sig(x) for x in leaves), slot_sig,
                        state.scalar_values(),
                        tuple((g._seed, g._key is None) for g in state.generators),
                        is_grad_enabled(), aliases.find(storages)))
        return state, tensors, storages, owner, key

    def __get__(self, obj, objtype=None):
        """A compiled function in a class body binds as its methods do (torch.compile
        returns a function): `@torch.compile def forward(self, x)` gets the instance
        as its first argument, guarded and walked like any other argument."""
        return self if obj is None else types.MethodType(self, obj)

    def __call__(self, *args, **kwargs):
        if is_compiling() or not bridge.top_level() or disabled():
            return self.fn(*args, **kwargs)
        stance = current_stance()
        if stance == "force_eager":
            return self.fn(*args, **kwargs)
        for closure in self._closures:     # (closure variables, as they stand now)
            closure.refresh()
        if args or kwargs:
            leaves, treedef = jax.tree_util.tree_flatten((args, kwargs),
                                                         is_leaf=lambda x: isinstance(x, Tensor))
            arg_tensors = [x for x in leaves if isinstance(x, Tensor)]
        else:       # (a training step's usual call)
            leaves, treedef, arg_tensors = [], _NO_ARGUMENTS, []
        plan = self._plan
        if plan is not None:
            if plan.matches(leaves, treedef, self._root_ids(leaves), arg_tensors,
                            is_grad_enabled()):
                # the steady state: the last call's guard and layout still hold
                result = self._steady(plan, arg_tensors)
                if result is not _MISS:
                    return result
            self._plan = plan = None
        state, tensors, storages, owner, key = self._guard(leaves, treedef, arg_tensors)
        entry = self.entries.get(key)
        if entry is not None and entry.eager:
            return self.fn(*args, **kwargs)
        grads = ()      # (a first call's placeholder `.grad`s: first_grads.py)
        lowering = _NO_LOWERING
        if entry is None and stance != "default":     # (set_stance: stance.py)
            if stance == "fail_on_recompile":
                raise recompile_error(self.fn)
            if stance == "eager_on_recompile" or (
                    stance == "eager_then_compile" and not self.ran_eagerly):
                self.ran_eagerly = True
                return self.fn(*args, **kwargs)
        if entry is None:
            if self._family(key) not in self.families and \
                    len(self.families) >= self._limit():
                self._warn_limit()
                return self.fn(*args, **kwargs)
            made = first_step.fill(state.optimizers) if self.fill_first_step else []
            grads = first_grads.fill(state.optimizers) if self.fill_grads else []
            stale = bool(made or grads)     # (the state changed since its guard was read)
            while entry is None:
                if stale:
                    state, tensors, storages, owner, key = self._guard(leaves, treedef,
                                                                       arg_tensors)
                    entry, stale = self.entries.get(key), False
                    if entry is not None:
                        if entry.eager:
                            first_grads.undo(grads)
                            first_step.undo(made)
                            return self.fn(*args, **kwargs)
                        if grads and not first_grads.serves_without(grads, entry, storages):
                            self._drop_grads(grads)
                            entry, grads, stale = None, [], True
                            continue
                        break
                entry = _Entry()
                try:
                    with _collector_paused():
                        entry.build(functools.partial(self._trace, entry, args, kwargs, state,
                                                      tensors, storages),
                                    _arrays(storages), state.counters(),
                                    self.programs, key.parts[-1])
                    left_out = first_step.not_kept(made, entry, state, storages)
                except SpeculationFailed:
                    self.speculate = False      # (traced again: PyTorch's break at .item())
                    entry = None
                    continue
                except GraphBreak as gb:
                    if not made and not grads:
                        return self._break(gb, entry, key, args, kwargs)
                    left_out = made         # (traced again without the state made ahead)
                    self._drop_grads(grads)
                    entry, grads, stale = None, [], True
                    if not left_out:
                        continue
                except BaseException:
                    first_grads.undo(grads)
                    first_step.undo(made)
                    raise
                if entry is not None and self._note_dynamic(entry, state):
                    # the slots it set to a number .item() read are program inputs from now
                    # on; this trace took their values as guards: traced again (no compile
                    # was made for it: that happens at a program's first run)
                    if entry.remove_added is not None:
                        entry.remove_added()
                    entry, stale = None, True
                    continue
                if grads and not first_grads.serves_without(grads, entry, storages):
                    # the program reads the `.grad`s: it is the one for calls that have
                    # them (kept for the second call), and this one is traced again
                    if not left_out and not entry.structural and entry.split is None:
                        self._store(entry, key)
                    self._drop_grads(grads, entry)
                    entry, grads, stale = None, [], True
                    if not left_out:
                        continue
                if left_out:
                    # eager mode would not give these parameters this state (first_step.py):
                    # neither does this call; trace the function again as its state stands
                    if entry is not None and entry.remove_added is not None:
                        entry.remove_added()
                    first_step.undo(left_out)
                    made = [m for m in made if m not in left_out]
                    self.fill_first_step = bool(made)     # (a function that does not step)
                    entry, stale = None, True
                    continue
                breaks.counters["stats"]["unique_graphs"] += 1
                if entry.split is not None:
                    note_break(entry.split_break, split=True)
                if not entry.structural:    # one that adds containers holds for one call
                    self._store(entry, key)
                lowering = _collector_paused()     # (its first run lowers and compiles)
        joins = is_grad_enabled() and any(entry.out_grad)
        if joins and self.results_as_op and _lazy.ENABLED and not grads:
            leaves = call_as_op(entry, tensors, owner, storages, state)   # (pending.py)
            if leaves is not None:
                self._keep_plan(entry, key, arg_tensors, tensors, storages, owner, ())
                return entry.unflatten_results(leaves)
        counters = state.counters()
        in_arrays = _arrays(storages)
        if entry.split is not None:
            return self._run_split(entry, in_arrays, counters, args, kwargs)
        try:
            with lowering:
                outs = entry.run(in_arrays, counters)
        except BaseException:
            first_grads.undo(grads)
            raise
        del in_arrays[:]        # (references to donated arrays)
        leaves, new_tensors = self._install(entry, state, tensors, storages, owner, outs)
        self._keep_plan(entry, key, arg_tensors, tensors, storages, owner, new_tensors)
        if joins:
            return join_graph(entry, leaves, tensors, owner, outs.inputs, counters)
        return entry.unflatten_results(leaves)

    def _keep_plan(self, entry, key, arg_tensors, tensors, storages, owner, new_tensors):
        """The steady path for the next calls, where this call's layout allows one."""
        plan = None if self._walk is None else \
            GuardPlan.make(self._walk, entry, key, arg_tensors, tensors, storages, owner)
        if plan is not None and plan.advance(new_tensors):
            self._plan = plan
            if arg_tensors:
                plan.release()      # (the plan does not keep this call's arguments)

    def _note_dynamic(self, entry, state):
        """Whether a trace set Python slots to a number .item() read that were not
        program inputs yet: they are from now on (the next walk of the state, forced
        here, passes them)."""
        idents = {state.scalar_slots[i].ident() for i in entry.symbol_slots}
        if idents <= self.dynamic_slots:
            return False
        self.dynamic_slots |= idents
        self._walk = None
        return True

    def _steady(self, plan, arg_tensors):
        """A call whose guard is the plan's: its entry's program on the plan's layout
        (as the full path below runs it), or _MISS, before anything ran, where an
        array the program takes once is no longer shared (aliases.py)."""
        entry = plan.entry
        state, tensors, storages = plan.layout(arg_tensors)
        if not entry.alias_holds(storages):
            return _MISS
        if plan.join and self.results_as_op and _lazy.ENABLED:     # (pending.py)
            leaves = call_as_op(entry, tensors, plan.owner, storages, plan.state)
            if leaves is not None:
                if arg_tensors:
                    plan.release()
                return entry.unflatten_results(leaves)
        counters = plan.state.counters()
        in_arrays = _arrays(storages)
        outs = entry.run(in_arrays, counters)
        del in_arrays[:]        # (references to donated arrays)
        leaves, _ = self._install(entry, state, tensors, storages, plan.owner, outs, plan)
        if plan.join:       # (grad mode is the plan's)
            result = join_graph(entry, leaves, tensors, plan.owner, outs.inputs, counters)
        else:
            result = entry.unflatten_results(leaves)
        if arg_tensors:
            plan.release()      # (the plan does not keep this call's arguments)
        return result

    def _drop_grads(self, grads, entry=None):
        """A trace with placeholder `.grad`s that does not serve the state without them:
        they go, with the containers the trace added, and this function gets none
        again."""
        first_grads.undo(grads)
        if entry is not None and entry.remove_added is not None:
            entry.remove_added()
        self.fill_grads = False

    def _family(self, key):
        """What the recompile limit counts (docs/jax.md: dynamic shapes)."""
        return key if self.dynamic is False else shapes_left_out(key)

    def _store(self, entry, key):
        self.entries[key] = entry
        self.families.add(self._family(key))

    def _break(self, gb, entry, key, args, kwargs):
        """A trace broke where the function cannot split: fullgraph raises, else this
        guard runs eagerly from now on."""
        if self.fullgraph:
            raise gb.unsupported() from None
        note_break(gb, split=False)
        entry.eager = True
        self._store(entry, key)
        return self.fn(*args, **kwargs)

    def _run_split(self, entry, in_arrays, counters, args, kwargs):
        """A guard with a graph break: the prefix program once (it writes nothing), then
        the function eagerly, replaying the prefix's ops from its results."""
        values = entry.call(entry.program, in_arrays, counters)
        breaks.counters["stats"]["split_prefix_runs"] += 1
        del in_arrays[:]
        with replaying(entry.split, values):
            return self.fn(*args, **kwargs)

    def _limit(self):
        return self.recompile_limit if self.recompile_limit is not None else config.limit()

    def _warn_limit(self):
        if self.limit_warned:
            return
        self.limit_warned = True
        code = getattr(self.fn, "__code__", None)
        where = (f"'{code.co_name}' ({code.co_filename}:{code.co_firstlineno})" if code
                 else repr(self.fn))
        # logged, not warnings.warn: PyTorch logs it on torch._dynamo's logger
        log.warning(
            "torchlike._dynamo hit config.recompile_limit (%d)\n"
            "   function: %s\n"
            "   last reason: a new guard (input shapes with dynamic=False, dtypes, Python "
            "values or state structure)\nThe function now runs eagerly; raise "
            "torchlike._dynamo.config.recompile_limit to compile more variants.",
            self._limit(), where)

    # -- the trace (runs inside jax.jit, once per entry) ---------------------------------
    def _trace(self, entry, args, kwargs, state, tensors, storages, in_arrays, counters):
        saved = Snapshot(state, tensors, storages)
        in_arrays = [in_arrays[k] for k in entry.slot_of]     # (shared inputs: aliases.py)
        draws = [0] * len(state.generators)
        for st, a in zip(storages, in_arrays):
            st.array = a
            st.generation += 1
        for t in tensors:       # inside, a tensor with history is a leaf of the program
            if t._grad_fn is not None:
                t._grad_fn, t._requires_grad = None, True
        for i, (g, c) in enumerate(zip(state.generators, counters)):
            g._counter = c
            g.next_key = counting(g, draws, i)
        for i, c in zip(state.dynamic_at, counters[len(state.generators):]):
            slot = state.scalar_slots[i]
            if type(slot.get()) in NUMBERS:
                slot.set(symbol(c, type(slot.get())))
        bridge.state.compiling += 1
        # a training step (it reaches an optimizer) linearizes each op as it runs, so its
        # backward inside does not trace the forward again (pullbacks.py)
        held_pullbacks = bridge.state.pullbacks
        bridge.state.pullbacks = weakref.WeakKeyDictionary() if state.optimizers else None
        writable = write_scope.writable
        Storage.epoch += 1
        write_scope.writable = (frozenset(map(id, storages)), Storage.epoch)
        enabled, _lazy.ENABLED = _lazy.ENABLED, False
        # backward() inside runs node by node: each node's vjp on the values this trace
        # computed already; the fused replay would compute the forward a second time
        fuse_limit, engine.FUSE_LIMIT = engine.FUSE_LIMIT, -1
        ok = False
        # fullgraph=False: the ops run are logged, so that a break can split the function
        log = bridge.state.op_log = None if self.fullgraph else OpLog()
        capture = bridge.state.capture_scalars
        bridge.state.capture_scalars = mode = CAPTURED if self.fullgraph or \
            config.capture_scalar_outputs else SPECULATIVE if self.speculate else None
        bridge.state.symbol_needed, bridge.state.captured_kinds = False, []
        try:
            try:
                with print_breaks(self.fullgraph, entry.prints_muted), \
                        _symbolic.recorded() as born:
                    result = self.fn(*args, **kwargs)
                if bridge.state.symbol_needed:
                    # a symbol's value was needed, and the break that raised was caught on
                    # the way (by code that formats in a try block)
                    _symbol_trouble(mode, CONVERTED, "a number .item() read was needed as "
                                    "a Python value")
            except SpeculationFailed:
                raise
            except BREAKS as e:
                gb = GraphBreak(e, sys.exc_info()[2])
                if log is None:
                    raise gb from None
                return self._split(entry, gb, log)
            except GraphBreak as gb:        # (a torchlike.compiler.disable'd call)
                # a write outside the state: the ops before it may have read that tensor
                # as a constant of the trace, so no prefix program; the guard runs eagerly
                if log is None or gb.kind == OUTSIDE_WRITE:
                    raise
                return self._split(entry, gb, log)
            except Exception:
                # an error where a symbol was about (np.isfinite(s)): PyTorch's break at
                # .item() would have given that code the number; traced again so
                if mode == SPECULATIVE and born:
                    raise SpeculationFailed() from None
                raise
            bridge.state.op_log = None
            after = discover(state.roots, state.global_names,
                             state.names_given).for_call(state.arg_tensors)
            entry.structural = saved.added_keys()
            if entry.structural:    # (for a trace that is dropped: first_grads.py)
                entry.remove_added = saved.remove_added
            entry.changed = [i for i, (st, a) in enumerate(zip(storages, in_arrays))
                             if st.array is not a]
            storage_out, where = aliases.dedupe_outputs(
                [force(storages[i].array) for i in entry.changed])
            if len(storage_out) < len(where):
                entry.expand_out = _getter(where)
            new_out = harvest(entry, saved, after)
            entry.draws = draws
            out_leaves, entry.unflatten_results = _flatten_results(result)
            out_leaves = _numbers_as_results(entry, state, out_leaves, born, mode)
            entry.out_static = [None if isinstance(x, Tensor) else x for x in out_leaves]
            entry.out_devices = [x.device if isinstance(x, Tensor) else None
                                 for x in out_leaves]
            result_out = [x._raw() for x in out_leaves if isinstance(x, Tensor)]
            tensor_results = [x for x in out_leaves if isinstance(x, Tensor)]
            entry.out_grad = [x.requires_grad and (x.dtype.is_floating_point or x.dtype.is_complex)
                              for x in tensor_results]
            # a result whose graph a backward() inside already freed is not differentiable
            # again (PyTorch raises the same error for it)
            entry.out_live = [g and not consumed(x._grad_fn)
                              for g, x in zip(entry.out_grad, tensor_results)]
            for x in entry.out_static:
                if isinstance(x, jax.core.Tracer):
                    raise GraphBreak(TypeError("the function returns a traced non-tensor"),
                                      None)
            ok = True
            return storage_out, new_out, [force(a) for a in result_out]
        finally:
            if mode == SPECULATIVE and sys.exc_info()[0] is not SpeculationFailed:
                # the numbers kept in the program where PyTorch breaks: counted as its
                # breaks (a split, found later, counts its own)
                for kind in bridge.state.captured_kinds:
                    breaks.counters["graph_break"][kind] += 1
            bridge.state.op_log = None
            bridge.state.capture_scalars = capture
            bridge.state.pullbacks = held_pullbacks
            write_scope.writable = writable
            _lazy.ENABLED = enabled
            engine.FUSE_LIMIT = fuse_limit
            bridge.state.compiling -= 1
            for g in state.generators:
                g.__dict__.pop("next_key", None)
            # after a good trace, containers the function created stay (their slots are
            # filled with the results by _install); after a failed one nothing stays
            saved.restore(remove_added=not ok)

    @staticmethod
    def _split(entry, gb, log):
        """The trace broke inside the function: the program is the prefix, whose
        outputs are the logged ops' results (nothing is installed from it)."""
        entry.split, entry.split_break = log.entries, gb
        entry.prints_muted[0] = True        # (the eager run after the prefix prints)
        return log.results

    # -- after a call ---------------------------------------------------------------------
    def _install(self, entry, state, tensors, storages, owner, outs, plan=None):
        """Puts a call's results in place and returns the function's result as its
        flat leaves (entry.unflatten_results' order) and the tensors now in the slots the
        function filled. With a `plan` (the steady state), the plan keeps the version
        counters to bump and puts the new tensors in their slots (and in itself): then
        no list of them is returned."""
        new_arrays = outs.storages if entry.expand_out is None else \
            entry.expand_out(outs.storages)
        for st, array in zip(entry.changed_of(storages), new_arrays):
            st.array = array
            st.generation += 1
        # an in-place change inside bumps the version, once per counter (views share one)
        counters = version_counters(entry, tensors, owner) if plan is None else \
            plan.counters(tensors, owner)
        for counter in counters:
            counter.value += 1
        if plan is not None:
            new_tensors = None
            plan.install(outs.new)
        else:
            new_tensors = self._fill_slots(entry, state, outs.new)
        for index, value in entry.scalar_after:
            slot = state.scalar_slots[index]
            slot.set(list(value) if isinstance(slot.get(), list) else value)
        for g, n in zip(state.generators, entry.draws):
            g._counter += n
        results = iter(outs.results)
        leaves = [s if d is None else Tensor._wrap(next(results), d) if n is None else
                  python_value(next(results), n)
                  for s, d, n in zip(entry.out_static, entry.out_devices, entry.out_numbers)]
        if entry.symbol_slots:
            first = len(leaves) - len(entry.symbol_slots)
            for index, value in zip(entry.symbol_slots, leaves[first:]):
                state.scalar_slots[index].set(value)
            del leaves[first:]
        return leaves, new_tensors

    def _fill_slots(self, entry, state, arrays):
        """The tensor slots the function filled get new tensors of `arrays`, those it
        emptied None; returns the new tensors."""
        # a structural entry added containers: walk again to see their slots
        if entry.structural:
            self._walk = None
            after = discover(state.roots, state.global_names, state.names_given).for_call(
                state.arg_tensors).tensor_slots
        else:
            after = state.tensor_slots
        new_tensors = []
        for array, index, (device, requires_grad) in zip(arrays, entry.new_slots,
                                                         entry.new_meta):
            t = Tensor._wrap(array, device)
            t._requires_grad = requires_grad
            after[index].set(t)
            new_tensors.append(t)
        for index in entry.none_slots:
            after[index].set(None)
        return new_tensors


_caches.on_release.append(CompiledCallable.release_small_programs)
