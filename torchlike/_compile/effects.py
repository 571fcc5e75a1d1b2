"""What a trace changes on the Python side: put back after the trace (_Snapshot), and
recorded so that every call repeats it (harvest, counting draws)."""
import jax

from .._lazy import force
from .._storage import write_scope
from .._symbolic import SymNumber
from .breaks import OUTSIDE_WRITE, GraphBreak
from .state import freeze

# values of the trace that a Python attribute cannot keep past it (in a tuple or list)
_TRACED = (jax.core.Tracer, SymNumber)


def check_writable(storage, what):
    """Inside a trace, before a write: a storage born before the trace and not among its
    inputs belongs to a tensor the state walk did not find (reached through an object
    torchlike.compile does not follow). The program could not write it (a tracer would
    be left in it, or a value computed once at trace time would stand for every call),
    so the function breaks there and runs the rest eagerly."""
    writable, epoch = write_scope.writable
    if storage.born < epoch and id(storage) not in writable:
        raise GraphBreak(RuntimeError(
            f"it {what} a tensor that is neither an argument nor state torchlike.compile "
            "found (the parameters, buffers, attributes and optimizer state of the modules, "
            "optimizers and objects it reaches by name); pass the tensor as an argument"),
            None, kind=OUTSIDE_WRITE)


def counting(generator, draws, i):
    method = type(generator).next_key

    def next_key():
        draws[i] += 1
        return method(generator)
    return next_key


class Snapshot:
    """Everything a trace may change on the Python side, to put back afterwards."""

    def __init__(self, state, tensors, storages):
        self.state = state
        self.storages = [(st, st.array, st.generation) for st in storages]
        self.tensor_slots = [(s, s.get()) for s in state.tensor_slots]
        self.scalars = [(s, s.get()) for s in state.scalar_slots]
        self.scalar_values = [freeze(v) for _, v in self.scalars]
        self.dict_keys = [(d, set(d)) for d in state.dicts]
        self.counters = [(g, g._counter) for g in state.generators]
        # (collect's tensors are unique already)
        self.autograd_fields = [(t, t._grad, t._grad_fn, t._requires_grad) for t in tensors]

    def added_keys(self):
        return any(len(d) != len(keys) for d, keys in self.dict_keys)

    def remove_added(self):
        """Removes the keys the trace added to the state's dicts."""
        for d, keys in self.dict_keys:
            for k in [k for k in d if k not in keys]:
                del d[k]

    def restore(self, remove_added):
        for st, array, generation in self.storages:
            st.array = array
            # views' cached values are stale now, those cached during the trace too (a
            # generation past any the trace used: it bumped each storage's at its start)
            st.generation = max(st.generation, generation) + 1
        if remove_added:
            self.remove_added()
        for s, v in self.tensor_slots:
            s.set(v)
        for (s, v), frozen in zip(self.scalars, self.scalar_values):
            if v is None and not s.is_attr:
                s.holder[s.key] = None      # (Slot.set would remove the key: it stays)
            else:
                s.set(v)
                if type(v) is list:         # (changed in place: list.append in the trace)
                    v[:] = frozen
        for g, c in self.counters:
            g._counter = c
        for t, grad, grad_fn, requires_grad in self.autograd_fields:
            t._grad, t._grad_fn, t._requires_grad = grad, grad_fn, requires_grad


def harvest(entry, saved, after):
    """Inside the trace, after the function ran: which tensor slots it filled with new
    tensors (their values become outputs), which it emptied, which Python slots it
    changed."""
    before = {s.ident(): v for s, v in saved.tensor_slots}
    new_out = []
    for i, s in enumerate(after.tensor_slots):
        v = s.get()
        old = before.get(s.ident())
        if v is old:
            continue
        if s.is_attr and s.key == "grad":
            entry.grads_replaced.add(id(s.holder))      # (first_grads.py)
        if v is None:
            entry.none_slots.append(i)
        else:
            entry.new_slots.append(i)
            entry.new_meta.append((v.device, v._requires_grad and v._grad_fn is None))
            new_out.append(force(v._raw()))
    old_scalars = {s.ident(): v for (s, _), v in zip(saved.scalars, saved.scalar_values)}
    for i, s in enumerate(saved.state.scalar_slots):
        value = freeze(s.get())
        if isinstance(value, SymNumber):    # a number .item() read: the program gives it
            entry.symbol_slots.append(i)
            continue
        if isinstance(value, _TRACED) or (
                isinstance(value, tuple) and any(isinstance(v, _TRACED) for v in value)):
            raise GraphBreak(TypeError("a Python attribute was set to a traced value"), None)
        if value != old_scalars.get(s.ident()):
            entry.scalar_after.append((i, value))
    return new_out


