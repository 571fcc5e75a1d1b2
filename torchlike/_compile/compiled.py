"""torchlike.compile: a Python function traced once per guard set into one jax.jit program.

Each call:
1. finds the function's state (state.py) and computes its guard: the arguments' shapes,
   dtypes and devices, Python arguments, grad mode, and the structure and Python values
   of the state (which `.grad`s exist, optimizer state, module.training, lr ...);
2. on a guard it has seen, runs that entry's program on the arrays of the state's
   storages and the arguments, and installs the results: storages get their new arrays,
   tensor slots get new tensors (a fresh `.grad`, optimizer state), Python slots the
   values the function gave them when it was traced;
3. on a new guard, traces the function with tracers in every storage (autograd records
   on tracers, so backward() and optimizer.step() inside join the program), then runs it.

A function that needs a value on the host (`.item()`, `if x.sum() > 0`) cannot be one
program. With fullgraph=False it runs eagerly for that guard (torchlike's eager mode
still fuses each step lazily); with fullgraph=True it raises naming the line. After
`recompile_limit` distinct guards the function runs eagerly with PyTorch's warning.
"""
import functools
import linecache
import sys
import traceback
import types
import warnings
import weakref

import jax
import jax.extend.core

from .. import _jax_bridge as bridge
from .. import _lazy
from .._lazy import force
from .._tensor import Tensor
from ..autograd import engine
from ..autograd.function import Function
from ..autograd.graph import SECOND_BACKWARD
from ..autograd.grad_mode import is_grad_enabled
from . import config
from .state import Slot, discover, freeze

# Errors JAX raises when traced code needs a concrete value: a graph break.
_BREAKS = (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError,
           jax.errors.TracerIntegerConversionError, jax.errors.TracerArrayConversionError)


class Unsupported(RuntimeError):
    """torch._dynamo.exc.Unsupported: fullgraph=True met something that is not one graph."""


def is_compiling():
    return bridge.state.compiling > 0


def _tensor_sig(t):
    return (tuple(t._shape), t.stride(), t._offset, t._dtype, t._storage.device,
            t._requires_grad, t._grad_fn is None)


def _leaf_sig(x):
    if isinstance(x, Tensor):
        return ("T",) + _tensor_sig(x)
    if isinstance(x, (bool, int, float, complex, str, type(None))):
        return (type(x), x)
    return ("id", id(x))


def _function_globals(fn):
    """(globals dict, name) pairs and closure values the function can reach: its own
    names and those of the plain Python functions it names, transitively."""
    names, cells, seen = [], [], set()
    work = [fn]
    while work:
        f = work.pop()
        f = getattr(f, "__func__", f)
        if not isinstance(f, types.FunctionType) or id(f) in seen:
            continue
        seen.add(id(f))
        if (f.__module__ or "").split(".")[0] in ("torchlike", "jax", "numpy"):
            continue
        codes = [f.__code__]
        while codes:
            code = codes.pop()
            for name in code.co_names:
                if name in f.__globals__:
                    names.append((f.__globals__, name))
                    value = f.__globals__[name]
                    if isinstance(value, types.FunctionType):
                        work.append(value)
            codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
        for cell in f.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:      # a cell not filled yet
                continue
            cells.append(value)
            if isinstance(value, types.FunctionType):
                work.append(value)
    unique = {(id(g), n): (g, n) for g, n in names if not isinstance(g.get(n), types.ModuleType)}
    return list(unique.values()), cells


class _Entry:
    """One traced program and what to do with its results."""

    def __init__(self):
        self.eager = False        # a graph break: this guard runs eagerly
        self.program = self.plain = self.flat = None
        self.out_tree = None
        self.donate = ()
        self.reset()

    def reset(self):
        """What a trace finds (set by CompiledCallable._trace)."""
        self.changed = []         # storages the function wrote
        self.new_slots = []       # indices of the tensor slots it filled with new tensors
        self.new_meta = []        # (device, requires_grad) of each new tensor
        self.none_slots = []      # slots it emptied
        self.scalar_after = []    # (Python slot index, value) it wrote
        self.draws = []           # draws per generator
        self.out_static = None    # non-tensor results (constants of the trace)
        self.out_devices = None
        self.out_grad = []        # which tensor results require grad
        self.out_live = []        # ... and can still be differentiated outside
        self.structural = False   # the trace added containers (first optimizer step)
        self.pullbacks = {}       # which inputs are differentiated -> jitted vjp
        self.out_tree_results = None

    def build(self, trace, in_arrays, counters):
        """Trace once (to a jaxpr) and make the program; the storages it writes are
        donated, so XLA updates them in place, unless a result can be differentiated
        outside (its backward reads the inputs again)."""
        closed, shapes = jax.make_jaxpr(trace, return_shape=True)(in_arrays, counters)
        self.out_tree = jax.tree_util.tree_structure(shapes)
        self.flat = jax.extend.core.jaxpr_as_fun(closed)
        self.donate = () if any(self.out_live) else tuple(self.changed)
        self.program = jax.jit(self.flat, donate_argnums=self.donate)

    def run(self, in_arrays, counters):
        program = self.program
        # donating an array someone else still holds (a view's pending value, a saved
        # tensor of an eager graph) would delete it under them: the references are the
        # storage, in_arrays and getrefcount's argument
        if self.donate and any(sys.getrefcount(in_arrays[i]) > 3 for i in self.donate):
            if self.plain is None:
                self.plain = jax.jit(self.flat)
            program = self.plain
        outs = jax.tree_util.tree_unflatten(self.out_tree, program(*in_arrays, *counters))
        return _Outputs(*outs, inputs=None if self.donate else list(in_arrays))


class _Outputs:
    def __init__(self, storages, new, results, inputs):
        self.storages, self.new, self.results, self.inputs = storages, new, results, inputs


class CompiledCallable:
    _live = None        # every compiled callable (weakly), for torchlike.compiler.reset

    def __init__(self, fn, fullgraph=False, dynamic=None, recompile_limit=None):
        self.fn = fn
        self.fullgraph = fullgraph
        self.dynamic = dynamic
        self.recompile_limit = recompile_limit
        self.entries = {}
        self.limit_warned = False
        self._globals, self._cells = _function_globals(fn)
        self._walk = None       # (state, ids of its roots, its fingerprint)
        functools.update_wrapper(self, fn)
        if CompiledCallable._live is None:
            CompiledCallable._live = weakref.WeakSet()
        CompiledCallable._live.add(self)

    @classmethod
    def reset_all(cls):
        for c in list(cls._live or ()):
            c.entries.clear()
            c._walk = None
            c.limit_warned = False

    # -- one call ------------------------------------------------------------------------
    def _state_for(self, leaves):
        """The state of this call: the last walk's, when its fingerprint still holds."""
        roots = [x for x in leaves if not isinstance(x, Tensor)] + self._cells + [self.fn]
        cached = self._walk
        if cached is not None and cached[1] == tuple(map(id, roots)) and \
                cached[2] == cached[0].fingerprint():
            state = cached[0]
        else:
            state = discover(roots, self._globals)
            self._walk = (state, tuple(map(id, roots)), state.fingerprint())
        return state.for_call([x for x in leaves if isinstance(x, Tensor)])

    def __call__(self, *args, **kwargs):
        if is_compiling() or not bridge.top_level() or _disabled():
            return self.fn(*args, **kwargs)
        leaves, treedef = jax.tree_util.tree_flatten((args, kwargs),
                                                     is_leaf=lambda x: isinstance(x, Tensor))
        state = self._state_for(leaves)
        tensors, storages, slot_sig = _collect(state)
        key = (treedef, tuple(_leaf_sig(x) for x in leaves), slot_sig,
               tuple(freeze(s.get()) for s in state.scalar_slots),
               tuple((g._seed, g._key is None) for g in state.generators),
               is_grad_enabled())
        entry = self.entries.get(key)
        if entry is not None and entry.eager:
            return self.fn(*args, **kwargs)
        counters = [g._counter for g in state.generators]
        for st in storages:
            st.array = force(st.array)      # a pending value is computed now
        in_arrays = [st.array for st in storages]
        if entry is None:
            if len(self.entries) >= self._limit():
                self._warn_limit()
                return self.fn(*args, **kwargs)
            entry = _Entry()
            try:
                entry.build(functools.partial(self._trace, entry, args, kwargs, state, tensors,
                                              storages), in_arrays, counters)
            except _GraphBreak as gb:
                if self.fullgraph:
                    raise gb.unsupported() from None
                entry.eager = True
                self.entries[key] = entry
                return self.fn(*args, **kwargs)
            if not entry.structural:    # one that adds containers holds for one call only
                self.entries[key] = entry
        outs = entry.run(in_arrays, counters)
        del in_arrays[:]        # (references to donated arrays)
        result = self._install(entry, state, tensors, storages, outs)
        if is_grad_enabled() and any(entry.out_grad):
            result = _join_graph(entry, result, tensors, storages, outs.inputs, counters)
        return result

    def _limit(self):
        return self.recompile_limit if self.recompile_limit is not None else config.limit()

    def _warn_limit(self):
        if self.limit_warned:
            return
        self.limit_warned = True
        code = getattr(self.fn, "__code__", None)
        where = (f"'{code.co_name}' ({code.co_filename}:{code.co_firstlineno})" if code
                 else repr(self.fn))
        warnings.warn(
            f"torchlike._dynamo hit config.recompile_limit ({self._limit()})\n"
            f"   function: {where}\n"
            "   last reason: a new guard (input shapes, dtypes, Python values or state "
            "structure)\nThe function now runs eagerly; raise "
            "torchlike._dynamo.config.recompile_limit to compile more variants.",
            stacklevel=3)

    # -- the trace (runs inside jax.jit, once per entry) ---------------------------------
    def _trace(self, entry, args, kwargs, state, tensors, storages, in_arrays, counters):
        saved = _Snapshot(state, tensors, storages)
        draws = [0] * len(state.generators)
        for st, a in zip(storages, in_arrays):
            st.array = a
            st.generation += 1
        for t in tensors:       # inside, a tensor with history is a leaf of the program
            if t._grad_fn is not None:
                t._grad_fn, t._requires_grad = None, True
        for i, (g, c) in enumerate(zip(state.generators, counters)):
            g._counter = c
            g.next_key = _counting(g, draws, i)
        bridge.state.compiling += 1
        enabled, _lazy.ENABLED = _lazy.ENABLED, False
        # backward() inside runs node by node: each node's vjp on the values this trace
        # computed already; the fused replay would compute the forward a second time
        fuse_limit, engine.FUSE_LIMIT = engine.FUSE_LIMIT, -1
        ok = False
        try:
            try:
                result = self.fn(*args, **kwargs)
            except _BREAKS as e:
                raise _GraphBreak(e, sys.exc_info()[2]) from None
            after = discover(state.roots, state.global_names).for_call(state.arg_tensors)
            entry.structural = saved.added_keys()
            entry.changed = [i for i, (st, a) in enumerate(zip(storages, in_arrays))
                             if st.array is not a]
            storage_out = [force(storages[i].array) for i in entry.changed]
            new_out = _harvest(entry, saved, after)
            entry.draws = draws
            out_leaves, entry.out_tree_results = jax.tree_util.tree_flatten(
                result, is_leaf=lambda x: isinstance(x, Tensor))
            entry.out_static = [None if isinstance(x, Tensor) else x for x in out_leaves]
            entry.out_devices = [x.device if isinstance(x, Tensor) else None
                                 for x in out_leaves]
            result_out = [x._raw() for x in out_leaves if isinstance(x, Tensor)]
            tensor_results = [x for x in out_leaves if isinstance(x, Tensor)]
            entry.out_grad = [x.requires_grad and (x.dtype.is_floating_point or x.dtype.is_complex)
                              for x in tensor_results]
            # a result whose graph a backward() inside already freed is not differentiable
            # again (PyTorch raises the same error for it)
            entry.out_live = [g and not _consumed(x._grad_fn)
                              for g, x in zip(entry.out_grad, tensor_results)]
            for x in entry.out_static:
                if isinstance(x, jax.core.Tracer):
                    raise _GraphBreak(TypeError("the function returns a traced non-tensor"),
                                      None)
            ok = True
            return storage_out, new_out, [force(a) for a in result_out]
        finally:
            _lazy.ENABLED = enabled
            engine.FUSE_LIMIT = fuse_limit
            bridge.state.compiling -= 1
            for g in state.generators:
                g.__dict__.pop("next_key", None)
            # after a good trace, containers the function created stay (their slots are
            # filled with the results by _install); after a failed one nothing stays
            saved.restore(remove_added=not ok)

    # -- after a call ---------------------------------------------------------------------
    def _install(self, entry, state, tensors, storages, outs):
        changed = set()
        for i, array in zip(entry.changed, outs.storages):
            st = storages[i]
            st.array = array
            st.generation += 1
            changed.add(id(st))
        bumped = set()
        for t in tensors:       # an in-place change inside bumps the version, as eagerly
            counter = t._version_counter
            if id(t._storage) in changed and id(counter) not in bumped:
                bumped.add(id(counter))
                counter.value += 1
        # a structural entry added containers: walk again to see their slots
        if entry.structural:
            self._walk = None
            after = discover(state.roots, state.global_names).for_call(
                state.arg_tensors).tensor_slots
        else:
            after = state.tensor_slots
        for array, index, (device, requires_grad) in zip(outs.new, entry.new_slots,
                                                         entry.new_meta):
            t = Tensor._wrap(array, device)
            t._requires_grad = requires_grad
            after[index].set(t)
        for index in entry.none_slots:
            after[index].set(None)
        for index, value in entry.scalar_after:
            slot = state.scalar_slots[index]
            slot.set(list(value) if isinstance(slot.get(), list) else value)
        for g, n in zip(state.generators, entry.draws):
            g._counter += n
        results = iter(outs.results)
        out = [Tensor._wrap(next(results), d) if d is not None else s
               for s, d in zip(entry.out_static, entry.out_devices)]
        return jax.tree_util.tree_unflatten(entry.out_tree_results, out)


# -- results that require grad: one node whose backward is the program's vjp ----------
def _join_graph(entry, result, tensors, storages, in_arrays, counters):
    """Results that require grad join the autograd graph as one node,
    CompiledFunctionBackward, whose inputs are the tensors that require grad the call read
    (whole storages: parameters and arguments) and whose backward is the vjp of the
    program. A result whose graph a backward() inside the function already consumed
    gets the node too (PyTorch prints it), but differentiating it again raises
    PyTorch's error for a freed graph."""
    live = tuple(g for g, r in zip(entry.out_live, entry.out_grad) if r)
    inputs, positions = [], []
    where = {id(st): i for i, st in enumerate(storages)}
    for t in tensors:
        if t.requires_grad and t._base is None and t._whole:
            inputs.append(t)
            positions.append(where[id(t._storage)])
            if not any(live):   # a node that only raises needs one input, not all
                break
    if not inputs:
        return result
    leaves, tree = jax.tree_util.tree_flatten(result, is_leaf=lambda x: isinstance(x, Tensor))
    tensor_out = [x for x in leaves if isinstance(x, Tensor)]
    graded = [t for t, g in zip(tensor_out, entry.out_grad) if g]
    pullback = None
    if any(live):
        key = tuple(positions)
        pullback = entry.pullbacks.get(key)
        if pullback is None:
            pullback = entry.pullbacks[key] = jax.jit(functools.partial(
                _pullback, entry, key, tuple(entry.out_live)))
        pullback = functools.partial(pullback, list(in_arrays), counters)
    joined = CompiledFunction.apply(pullback, live, graded, *inputs)
    joined = iter(joined if isinstance(joined, tuple) else (joined,))
    swap = {id(t): next(joined) for t in graded}
    return jax.tree_util.tree_unflatten(
        tree, [swap.get(id(x), x) if isinstance(x, Tensor) else x for x in leaves])


def _pullback(entry, positions, out_live, in_arrays, counters, cotangents):
    def forward(diff):
        arrays = list(in_arrays)
        for p, d in zip(positions, diff):
            arrays[p] = d
        outs = jax.tree_util.tree_unflatten(entry.out_tree, entry.flat(*arrays, *counters))
        return [r for r, live in zip(outs[2], out_live) if live]
    _, vjp = jax.vjp(forward, [in_arrays[p] for p in positions])
    return vjp(cotangents)[0]


class CompiledFunction(Function):
    """The node of a compiled call's results (PyTorch's CompiledFunctionBackward)."""

    @staticmethod
    def forward(ctx, pullback, live, results, *inputs):
        ctx.pullback, ctx.live = pullback, live
        ctx.devices = [x.device for x in inputs]
        ctx.avals = [(tuple(r.shape), r.dtype.np) for r in results]
        return tuple(results) if len(results) > 1 else results[0].detach()

    @staticmethod
    def backward(ctx, *grads):
        if not all(ctx.live):
            raise RuntimeError(SECOND_BACKWARD)
        cotangents = [bridge.value(g).astype(d) if g is not None else jax.numpy.zeros(s, d)
                      for g, (s, d) in zip(grads, ctx.avals)]
        grads_in = ctx.pullback(cotangents)
        return (None, None, None) + tuple(bridge.wrap(g, d)
                                          for g, d in zip(grads_in, ctx.devices))


def _consumed(node):
    """Whether a backward already freed part of the graph below `node` (a work list,
    run once per trace)."""
    work, seen = [node], set()
    while work:
        n = work.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        if getattr(n, "freed", False):
            return True
        work.extend(edge[0] for edge in getattr(n, "next_functions", ()) or ())
    return False


def _counting(generator, draws, i):
    method = type(generator).next_key

    def next_key():
        draws[i] += 1
        return method(generator)
    return next_key


def _collect(state):
    """The tensors a call reads (state and arguments), their unique storages, and the
    guard part describing which slots hold which tensors."""
    tensors, index = [], {}
    for t in state.tensors:
        if id(t) not in index:
            index[id(t)] = len(tensors)
            tensors.append(t)
    sig = []
    for s in state.tensor_slots:
        v = s.get()
        if isinstance(v, Tensor) and id(v) not in index:
            index[id(v)] = len(tensors)
            tensors.append(v)
        sig.append(None if v is None else index[id(v)])
    storages, where = [], {}
    for t in tensors:
        if id(t._storage) not in where:
            where[id(t._storage)] = len(storages)
            storages.append(t._storage)
    tensor_sig = tuple((where[id(t._storage)],) + _tensor_sig(t) for t in tensors)
    return tensors, storages, (tensor_sig, tuple(sig))


class _Snapshot:
    """Everything a trace may change on the Python side, to put back afterwards."""

    def __init__(self, state, tensors, storages):
        self.state = state
        self.storages = [(st, st.array, st.generation) for st in storages]
        self.tensor_slots = [(s, s.get()) for s in state.tensor_slots]
        self.scalars = [(s, s.get()) for s in state.scalar_slots]
        self.scalar_values = [freeze(v) for _, v in self.scalars]
        self.dict_keys = [(d, set(d)) for d in state.dicts]
        self.counters = [(g, g._counter) for g in state.generators]
        self.grads = {id(t): (t, t._grad, t._grad_fn, t._requires_grad)
                      for t in tensors}

    def added_keys(self):
        return any(len(d) != len(keys) for d, keys in self.dict_keys)

    def restore(self, remove_added):
        for st, array, generation in self.storages:
            st.array = array
            st.generation = generation + 1      # views' cached values are stale now
        if remove_added:
            for d, keys in self.dict_keys:
                for k in [k for k in d if k not in keys]:
                    del d[k]
        for s, v in self.tensor_slots:
            s.set(v)
        for s, v in self.scalars:
            s.set(v)
        for g, c in self.counters:
            g._counter = c
        for t, grad, grad_fn, requires_grad in self.grads.values():
            t._grad, t._grad_fn, t._requires_grad = grad, grad_fn, requires_grad


def _harvest(entry, saved, after):
    """Inside the trace, after the function ran: which tensor slots it filled with new
    tensors (their values become outputs), which it emptied, which Python slots it
    changed."""
    before = {s.ident(): v for s, v in saved.tensor_slots}
    new_out = []
    for i, s in enumerate(after.tensor_slots):
        v = s.get()
        old = before.get(s.ident())
        if v is None:
            if old is not None:
                entry.none_slots.append(i)
        elif v is not old:
            entry.new_slots.append(i)
            entry.new_meta.append((v.device, v._requires_grad and v._grad_fn is None))
            new_out.append(force(v._raw()))
    old_scalars = {s.ident(): v for (s, _), v in zip(saved.scalars, saved.scalar_values)}
    for i, s in enumerate(saved.state.scalar_slots):
        value = freeze(s.get())
        if isinstance(value, jax.core.Tracer) or (
                isinstance(value, tuple) and any(isinstance(v, jax.core.Tracer) for v in value)):
            raise _GraphBreak(TypeError("a Python attribute was set to a traced value"), None)
        if value != old_scalars.get(s.ident()):
            entry.scalar_after.append((i, value))
    return new_out


class _GraphBreak(Exception):
    def __init__(self, error, tb):
        super().__init__(str(error))
        self.error, self.tb = error, tb

    def unsupported(self):
        where = ""
        if self.tb is not None:
            frames = [f for f in traceback.extract_tb(self.tb)
                      if "/torchlike/" not in f.filename and "/jax/" not in f.filename]
            if frames:
                f = frames[-1]
                line = (f.line or linecache.getline(f.filename, f.lineno)).strip()
                where = f"\n  File \"{f.filename}\", line {f.lineno}, in {f.name}\n    {line}"
        return Unsupported("torchlike.compile(fullgraph=True): the function cannot be one "
                           "graph: it needs a tensor's value in Python (a data-dependent "
                           f"branch, .item(), .tolist() or similar){where}\n"
                           f"({type(self.error).__name__})")


# -- torchlike.compiler.disable -----------------------------------------------------------
_DISABLED = [0]


def _disabled():
    return _DISABLED[0] > 0


def disable(fn=None, recursive=True, *, reason=None):
    """A function that always runs eagerly; inside a compiled function, calling it is a
    graph break (the caller runs eagerly for that guard)."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)
    if isinstance(fn, CompiledCallable):
        fn = fn.fn

    @functools.wraps(fn)
    def run_eagerly(*args, **kwargs):
        if is_compiling():
            raise _GraphBreak(RuntimeError(
                f"torchlike.compiler.disable'd function {fn.__qualname__} called"),
                sys.exc_info()[2])
        _DISABLED[0] += 1
        try:
            return fn(*args, **kwargs)
        finally:
            _DISABLED[0] -= 1
    run_eagerly._torchlike_disabled = True
    return run_eagerly
