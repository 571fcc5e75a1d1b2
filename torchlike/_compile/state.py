"""What a compiled function reads and writes besides its arguments: its state.

torchlike.compile turns a Python function into one jax.jit program, a pure function of
arrays. A PyTorch function is not pure: it reads parameters and buffers of the modules it
can reach, writes `.grad`s, creates optimizer state, bumps Python counters. This module
finds all of that, starting from roots (the arguments, the function's closure, the
globals it names, the methods' `self`), as *slots*:

* tensors whose identity stays (parameters, loose tensors): their storages become inputs
  and outputs of the program;
* tensor slots that may be replaced or created (`p.grad`, buffers, optimizer state):
  read before, compared after;
* Python scalars (module.training, param_group['lr'], a scheduler's last_epoch, a global
  counter): part of the guard, and replayed after each call when the function changed
  them (the program cannot change a Python number);
* random generators: their counters become traced inputs, so a dropout does not retrace.

Objects of the user's own classes (a trainer holding a model, an optimizer and a step
counter) are followed through the attributes the function's code names (`self.model`,
`self.step_count`), and the methods it calls on them add the names their code uses: an
attribute the code never names (a list of past losses, an epoch counter set outside) is
neither walked nor guarded.

The walk is a work list (no recursion) and looks only at objects a training step touches.
"""
import copy
import itertools
import operator
import os
import sys
import types

from .._tensor import Tensor
from .._random import Generator, default_generator

_SCALARS = (bool, int, float, complex, str, type(None))
MAX_OBJECTS = 10_000        # a walk stops here: state this large is not a training step


_SCALAR_TYPES = frozenset(_SCALARS)
NUMBERS = frozenset((bool, int, float))     # what a dynamic slot passes to the program
_chain = itertools.chain.from_iterable
_DICT = operator.attrgetter("__dict__")        # (vars(), without its call)
_PARAMETERS = operator.attrgetter("_parameters")
_CHILDREN = operator.attrgetter("_modules")
_GROUPS = operator.attrgetter("param_groups")
_GROUP_PARAMS = operator.itemgetter("params")


def is_scalar(value):
    if type(value) in _SCALAR_TYPES:
        return True
    return isinstance(value, (tuple, list)) and len(value) <= 64 and all(
        isinstance(v, _SCALARS) for v in value)


def freeze(value):
    """A hashable, comparable copy of a Python scalar slot's value."""
    return tuple(value) if isinstance(value, list) else value


class Slot:
    """`holder[key]` (a dict entry) or `holder.key` (an attribute)."""
    __slots__ = ("holder", "key", "is_attr")

    def __init__(self, holder, key, is_attr):
        self.holder, self.key, self.is_attr = holder, key, is_attr

    def get(self):
        if self.is_attr:
            if self.key == "grad" and isinstance(self.holder, Tensor):
                return self.holder._grad      # (the property warns for non-leaves)
            return getattr(self.holder, self.key, None)
        return self.holder.get(self.key)

    def set(self, value):
        if self.is_attr:
            if self.key == "grad" and isinstance(self.holder, Tensor):
                self.holder._grad = value          # as accumulation does: no checks
            else:
                setattr(self.holder, self.key, value)
        elif value is None and self.key in self.holder and not isinstance(
                self.holder.get(self.key), Tensor):
            del self.holder[self.key]
        else:
            self.holder[self.key] = value

    def ident(self):
        return (id(self.holder), self.key)


class State:
    """The slots reachable from some roots, in a deterministic order."""

    def __init__(self):
        self.tensors = []           # tensors whose identity stays
        self.tensor_slots = []      # Slots holding a Tensor or None
        self.scalar_slots = []      # Slots holding Python scalars
        self.dynamic = frozenset()  # idents of those whose numbers are program inputs
        self.dicts = []             # dicts whose new keys a failed trace must remove
        self.generators = [default_generator]
        self.modules = []
        self.holders = []           # objects whose attributes are scalar slots
        self.optimizers = []
        self.sequences = []         # lists and tuples walked
        self.arg_tensors = []
        self.plain = []             # objects of the user's classes, followed by name
        self.plain_slots = []       # their tensor attributes (replacing one re-walks)
        self.attr_names = set()     # the attribute names the function's code uses
        self.method_globals = []    # (globals dict, name) that their methods name
        self._seen = set()

    def scalar_values(self):
        """The guard's Python values, read in one pass: an attribute slot is an entry
        of its holder's __dict__ (the walk found it there), so all reads are dict.get.
        A dynamic slot's value is a program input: the guard has its type only."""
        values = tuple(map(dict.get, *self._scalar_reader))
        if self.dynamic_at:
            values = list(values)
            for i in self.dynamic_at:
                values[i] = type(values[i])
            values = tuple(values)
        return tuple(map(freeze, values)) if list in map(type, values) else values

    def counters(self):
        """The program's inputs besides the storages' arrays: each generator's counter,
        then each dynamic slot's value."""
        counters = [g._counter for g in self.generators]
        if self.dynamic_at:
            reader = self._scalar_reader
            for i in self.dynamic_at:
                value = reader[0][i].get(reader[1][i])
                # (another value, for a guard that traces it as a constant: a stand-in)
                counters.append(value if type(value) in NUMBERS else 0)
        return counters

    def _read_plan(self):
        """Made once per walk (for_call's copies share it). `dynamic`: the idents of
        the Python slots whose numbers are program inputs (a compiled function sets
        them to a number .item() read: CompiledCallable.dynamic_slots)."""
        self._scalar_reader = (
            [s.holder.__dict__ if s.is_attr else s.holder for s in self.scalar_slots],
            [s.key for s in self.scalar_slots])
        self.dynamic_at = tuple(i for i, s in enumerate(self.scalar_slots)
                                if s.ident() in self.dynamic)

    def for_call(self, arg_tensors):
        """This state plus the `.grad` slots of one call's tensor arguments."""
        if "_scalar_reader" not in self.__dict__:
            self._read_plan()
        call = copy.copy(self)
        call.arg_tensors = arg_tensors
        call.tensors = self.tensors + arg_tensors
        call.tensor_slots = self.tensor_slots + [Slot(t, "grad", True) for t in arg_tensors]
        return call

    def fingerprint(self):
        """A cheap summary of the structure the walk saw. The same fingerprint means a
        new walk would find the same slots (their values are read afresh each call).
        Computed on every compiled call: one flat tuple of lengths and ids, each run of
        it one C-level pass (map, chain) over a list this walk found (a run whose length
        can change comes after the lengths that give it, so equal tuples have equal
        runs). (The roots are not in it: the caller compares their ids with the walk's.)"""
        holder_dicts = list(map(_DICT, self.holders))
        parameters = list(map(_PARAMETERS, self.modules))
        children = list(map(_CHILDREN, self.modules))
        groups = list(map(_GROUPS, self.optimizers))
        return tuple(_chain((
            map(len, self.dicts),
            map(len, self.sequences), map(id, _chain(self.sequences)),
            map(len, holder_dicts), map(id, holder_dicts),     # (the read plan's dicts)
            map(len, parameters), map(id, _chain(map(dict.values, parameters))),
            map(len, children), map(id, _chain(map(dict.values, children))),
            map(len, groups), map(len, map(_GROUP_PARAMS, _chain(groups))),
            map(id, map(dict.get, *self._global_reader)),
            map(id, map(Slot.get, self.plain_slots)))))

    def _mark(self, obj):
        if id(obj) in self._seen:
            return False
        if len(self._seen) > MAX_OBJECTS:
            raise RuntimeError("torchlike.compile: the function reaches more than "
                               f"{MAX_OBJECTS} objects; pass its state as arguments")
        self._seen.add(id(obj))
        return True

    def scalars_of(self, holder):
        self.holders.append(holder)
        for k, v in holder.__dict__.items():
            if (type(v) in _SCALAR_TYPES or is_scalar(v)) and not k.startswith("__"):
                self.scalar_slots.append(Slot(holder, k, True))

    def dict_scalars(self, d, skip=()):
        self.dicts.append(d)
        for k, v in list(d.items()):
            if k in skip:
                continue
            if isinstance(v, Tensor):
                self.tensor_slots.append(Slot(d, k, False))
            elif type(v) in _SCALAR_TYPES or is_scalar(v):
                self.scalar_slots.append(Slot(d, k, False))


def discover(roots, global_names=(), attr_names=frozenset()):
    """The State reachable from `roots`, from (globals dict, name) pairs, and through
    the attributes named `attr_names` of the user's objects."""
    from ..nn.modules.module import Module
    from ..optim.optimizer import Optimizer
    state = State()
    state.roots, state.global_names, state.names_given = roots, global_names, attr_names
    state.attr_names = set(attr_names)
    work = list(reversed(roots))
    _globals(state, global_names, work)
    state._global_pairs = list(global_names)
    while work:
        obj = work.pop()
        if obj is None or isinstance(obj, _SCALARS) or not state._mark(obj):
            continue
        if isinstance(obj, Tensor):
            state.tensors.append(obj)
            state.tensor_slots.append(Slot(obj, "grad", True))
        elif isinstance(obj, Module):
            _module(state, obj, work)
        elif isinstance(obj, Optimizer):
            _optimizer(state, obj, work)
        elif isinstance(obj, Generator):
            state.generators.append(obj)
        elif isinstance(obj, (list, tuple)):
            state.sequences.append(obj)
            work.extend(reversed(obj))
        elif isinstance(obj, dict):
            state.dict_scalars(obj)
            work.extend(reversed([v for v in obj.values() if not isinstance(v, Tensor)]))
        elif isinstance(obj, types.MethodType):
            work.append(obj.__self__)
        elif _is_scheduler(obj):
            state.scalars_of(obj)
            work.append(obj.optimizer)
        elif _is_users(obj):
            state.plain.append(obj)
            _attributes(state, obj, state.attr_names, work)
            _learn_names(state, _method_names(state, obj, state.attr_names, work), work)
    state._global_pairs += state.method_globals
    state._global_reader = ([g for g, _ in state._global_pairs],
                            [n for _, n in state._global_pairs])
    return state


def _globals(state, pairs, work):
    for g, name in pairs:
        if name in g:
            value = g[name]
            # (a closure's list or tuple is walked, as its other objects are)
            if type(value) in _SCALAR_TYPES if type(g) is CellValues else is_scalar(value):
                state.scalar_slots.append(Slot(g, name, False))
            else:
                work.append(value)


# objects of these packages are not followed (their state is not a training step's: a
# logger would lead to every logger); the standard library's namespaces are (a config)
_LIBRARIES = (frozenset(("torchlike", "jax", "jaxlib", "numpy", "torch")) |
              frozenset(sys.stdlib_module_names)) - {"types", "argparse"}


def _is_users(obj):
    """An instance of a class the user wrote (a library's objects are not followed)."""
    cls = type(obj)
    return hasattr(obj, "__dict__") and not isinstance(obj, (type, types.ModuleType)) \
        and not callable(getattr(obj, "__func__", None)) \
        and (getattr(cls, "__module__", None) or "builtins").split(".")[0] not in _LIBRARIES


def _attributes(state, obj, names, work):
    """The attributes of one of the user's objects that the code names: Python scalars
    are guarded (and replayed when the function sets them), tensors are state (their
    `.grad` too) held in slots, anything else is walked."""
    attrs = vars(obj)
    for name in sorted(names):      # (a set's order may differ between two walks)
        if name not in attrs or name.startswith("__"):
            continue
        value = attrs[name]
        if isinstance(value, Tensor):
            slot = Slot(obj, name, True)
            state.tensor_slots.append(slot)
            state.plain_slots.append(slot)
            work.append(value)
        elif type(value) in _SCALAR_TYPES or is_scalar(value):
            state.scalar_slots.append(Slot(obj, name, True))
            if not state.holders or state.holders[-1] is not obj:
                state.holders.append(obj)       # (its attributes come together)
        else:
            work.append(value)


def _method_names(state, obj, names, work):
    """The names used by the code of `obj`'s methods that `names` calls (and the globals
    and closures that code reaches)."""
    found = set()
    cls = type(obj)
    for name in sorted(names):
        member = getattr(cls, name, None)
        if isinstance(member, property):
            member = member.fget
        if isinstance(member, types.FunctionType) and state._mark(member):
            pairs, cells, more = function_roots(member)
            _globals(state, pairs, work)
            state.method_globals += pairs
            work.extend(cells)
            found |= more
    return found


def _learn_names(state, found, work):
    """Names that the methods of the user's objects add: every such object walked so
    far is looked at again for them, until no method adds another."""
    new = found - state.attr_names
    while new:
        state.attr_names |= new
        more = set()
        for obj in state.plain:
            more |= _method_names(state, obj, new, work)
            _attributes(state, obj, new, work)
        new = more - state.attr_names


def _module(state, module, work):
    for m in module.modules():
        if m is not module and not state._mark(m):
            continue
        state.modules.append(m)
        state.scalars_of(m)
        for p in m._parameters.values():
            if p is not None and state._mark(p):
                state.tensors.append(p)
                state.tensor_slots.append(Slot(p, "grad", True))
        state.dicts.append(m._buffers)
        for name in m._buffers:
            state.tensor_slots.append(Slot(m._buffers, name, False))
        for name, value in m.__dict__.items():      # plain tensor attributes
            if isinstance(value, Tensor):
                state.tensor_slots.append(Slot(m, name, True))
            elif isinstance(value, Generator):
                work.append(value)


def _optimizer(state, opt, work):
    # step() sets its re-entry flag (False between calls) on its first call: set here,
    # the optimizer's attributes (guarded Python values) stay the same across that call
    opt.__dict__.setdefault("_in_step", False)
    state.optimizers.append(opt)
    state.scalars_of(opt)
    for group in opt.param_groups:
        state.dict_scalars(group, skip=("params",))
        work.extend(reversed(group["params"]))
    state.dicts.append(opt.state)
    for per_param in opt.state.values():
        if isinstance(per_param, dict):
            state.dict_scalars(per_param)


def _is_scheduler(obj):
    from ..optim.lr_scheduler import LRScheduler
    return isinstance(obj, LRScheduler)


_TORCHLIKE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class CellValues(dict):
    """The values of closure cells, as a dict (a guard reads its slots with dict.get,
    as it reads globals), read again at every call by `refresh`: a closure variable
    rebound between calls (`nonlocal scale; scale = 2.0`) is then a new guard, or a new
    object walked, as a global's new value is."""

    def __init__(self, cells):
        super().__init__()
        self.cells = cells
        self.refresh()

    def refresh(self):
        for i, cell in enumerate(self.cells):
            try:
                self[i] = cell.cell_contents
            except ValueError:      # (a cell not filled yet)
                self.pop(i, None)


def function_roots(fn, cells_as_slots=False):
    """(globals dict, name) pairs and other roots the function can reach: its own names
    and those of the plain Python functions it names, transitively; and every name their
    code uses (attribute names among them). Closure values are roots; with
    `cells_as_slots` the closure cells are pairs of one CellValues instead (the caller
    refreshes it)."""
    names, cells, seen, used = [], [], set(), set()
    closure = []
    work = [fn]
    while work:
        f = work.pop()
        f = getattr(f, "__func__", f)
        if not isinstance(f, types.FunctionType) or id(f) in seen:
            continue
        seen.add(id(f))
        if f.__code__.co_filename.startswith(_TORCHLIKE_DIR):
            # a torchlike.func transform of the user's function (functools.wraps names
            # it `__wrapped__`): the walk goes on there (a module or a method is state)
            wrapped = getattr(f, "__wrapped__", None)
            if wrapped is not None:
                cells.append(wrapped)
                work.append(wrapped)
            continue
        if (f.__module__ or "").split(".")[0] in ("torchlike", "jax", "numpy"):
            continue
        codes = [f.__code__]
        while codes:
            code = codes.pop()
            used.update(code.co_names)
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
            if cells_as_slots:
                closure.append(cell)
            else:
                cells.append(value)
            if isinstance(value, types.FunctionType):
                work.append(value)
    if closure:
        values = CellValues(closure)
        names += [(values, i) for i in range(len(closure))]
    unique = {(id(g), n): (g, n) for g, n in names if not isinstance(g.get(n), types.ModuleType)}
    return list(unique.values()), cells, frozenset(used)
