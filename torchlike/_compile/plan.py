"""The guard plan: a steady-state compiled call without walking or hashing the state.

The full guard (guards.collect and GuardKey) reads and hashes every tensor's metadata on
each call (~85 us for the benchmark transformer's 132 tensors; the plan's checks ~45). A
training step's state is the same from call to call except for what the step itself
installed (fresh `.grad`s, new optimizer state).
So after a call the plan remembers that call's layout: the tensors and storages in
program order, the metadata of each, and what every tensor slot holds once the results
are installed. The next call checks in a few C-level passes (`map`, list equality)
that:

* the state's structure still holds (the walk's roots and fingerprint);
* every tensor slot holds the very object it held (a `.grad` the user set to None or
  replaced, a replaced optimizer state tensor: a miss);
* every tensor keeps its storage, shape, strides, offset, dtype, requires_grad, grad_fn
  and version counter (`p.data = ...`, `requires_grad_()`: a miss);
* the arguments have the same structure and signatures and are fresh tensors (not state,
  sharing no storage, without `.grad`), and the Python values, generator seeds and grad
  mode are the guard's.

The slot and tensor checks are one list (`expect`) compared at once, and the plan keeps
its lists of the call's tensors and storages from call to call (install updates the
places of the tensors it replaces; a call's arguments are put in and taken out again),
so a steady call builds no list of the layout.

Then the call reuses the entry directly (CompiledCallable._steady); on any miss it takes
the full path, which finds (or traces) the entry for the new guard and makes a new plan.
Only layouts where that is simple get a plan: the arguments sit between the state's own
tensors and the slots' tensors, and each slot the program fills held a tensor of its own
before (so replacing it keeps the guard).
"""
import operator
from itertools import chain

from .._tensor import Tensor
from .guards import _tensor_sig, leaf_sig

# what a tensor's guard reads, plus its storage and version counter, which the plan keeps
# (a lazily computed stride that appears later only costs one full call)
_META = operator.attrgetter("_storage", "_shape", "_stride", "_offset", "_whole", "_dtype",
                            "_requires_grad", "_grad_fn", "_version_counter")
_GRAD = operator.attrgetter("_grad")
_STORAGE = operator.attrgetter("_storage")
_COUNTER = operator.attrgetter("_version_counter")
_new = object.__new__


def getter(indices):
    """seq -> the tuple of seq's items at `indices` (one C-level call)."""
    if len(indices) > 1:
        return operator.itemgetter(*indices)
    if indices:
        i = indices[0]
        return lambda seq: (seq[i],)
    return lambda seq: ()


def version_counters(entry, tensors, owner):
    """The distinct version counters of the tensors whose storage the entry writes."""
    if entry.bumped is None:
        changed = entry.changed_set
        entry.bumped = [j for j, k in enumerate(owner) if k in changed]
    return list({id(c): c for c in map(_COUNTER, map(tensors.__getitem__,
                                                     entry.bumped))}.values())


class GuardPlan:
    """The layout of the last call, valid while the checks in `matches` hold."""

    def __init__(self, walk, entry, parts, n_head, n_args, tensors, storages, owner,
                 slot_sig):
        self.walk = walk                    # (state, ids of roots, fingerprint)
        self.state = walk[0]                # the walk's State (not one call's)
        self.generators = self.state.generators
        self.entry = entry
        self.treedef, self.leaf_sigs, _, self.scalars, self.seeds, self.grad_mode, _ = parts
        self.n_head, self.n_args = n_head, n_args
        self.owner = owner
        n_head_storages = len(set(owner[:n_head]))
        self.n_head_storages = n_head_storages
        # the call's tensors and storages in program order, kept from call to call (a call
        # with arguments puts its own in their places); `kept` (the state's tensors: the
        # walk's own, then those found in slots) is what the metadata check reads
        self.tensors, self.storages = list(tensors), list(storages)
        self.kept = tensors[:n_head] + tensors[n_head + n_args:]
        # for each slot the program fills: its tensor's place in `tensors` and in `kept`,
        # and its storage's place in `storages`
        self.replace = [(slot_sig[i], slot_sig[i] - n_args, owner[slot_sig[i]])
                        for i in entry.new_slots]
        self.checked_new = False
        # the version counters to bump, kept while the tensors they come from stay:
        # not when an argument (new each call) or a replaced tensor is written in place
        bumped = set(entry.bumped or ())
        self.keep_counters = bumped.isdisjoint(range(n_head, n_head + n_args)) and \
            bumped.isdisjoint(k for k, _, _ in self.replace)
        self._counters = None
        # tensor slots: a tensor's `.grad` is a __slots__ field, the others dict entries
        # (a module attribute is an entry of its __dict__, where the walk found it)
        self.grad_holders, self.dicts, self.keys, where = [], [], [], []
        for s in self.state.tensor_slots:
            if s.is_attr and s.key == "grad" and isinstance(s.holder, Tensor):
                where.append((True, len(self.grad_holders)))
                self.grad_holders.append(s.holder)
            else:
                where.append((False, len(self.dicts)))
                self.dicts.append(s.holder.__dict__ if s.is_attr else s.holder)
                self.keys.append(s.key)
        # each filled slot: its place among the expected values below, and the Slot to
        # set where it is not a `.grad`
        n_grads = len(self.grad_holders)
        self.n_ids = n_grads + len(self.dicts)
        self.filled = [(None if is_grad else self.state.tensor_slots[i],
                        k if is_grad else n_grads + k)
                       for i, (is_grad, k) in ((i, where[i]) for i in entry.new_slots)]
        # what install does for each filled slot: (the slot's holder for a `.grad`, else
        # None; the slot; its tensor's place in `tensors` and in `kept`; its storage's
        # place; its id's and its metadata's places in `expect`; its device and
        # requires_grad)
        self.installs = [(self.grad_holders[e] if slot is None else None, slot, n, m, s, e,
                          self.n_ids + m, device, requires_grad)
                         for (n, m, s), (slot, e), (device, requires_grad)
                         in zip(self.replace, self.filled, entry.new_meta)]
        # whether results join the autograd graph (the grad mode is the plan's)
        self.join = self.grad_mode and any(entry.out_grad)
        # what `matches` reads, as one list: the id of each `.grad` and of each other
        # slot's value (compared by id: a tensor's == is elementwise), then each kept
        # tensor's metadata. `kept` holds every slot's tensor, so no other object can
        # take one of these ids while the plan stands
        self.expect = self._read()
        self.ids = None     # (ids of tensors and storages, made when arguments need them)

    @classmethod
    def make(cls, walk, entry, key, args, tensors, storages, owner):
        """A plan for the layout of a call that just ran `entry`, or None where the
        layout is not the simple one (see the module's docstring)."""
        if entry.eager or entry.split is not None or entry.structural or entry.none_slots:
            return None
        slot_sig = key.parts[2][1]
        n_args = len(args)
        n_head = len(walk[0].tensors)       # (the walk lists each tensor once)
        n_head_storages = len(set(owner[:n_head]))
        arg_storages = range(n_head_storages, n_head_storages + n_args)
        if tensors[n_head:n_head + n_args] != args or any(_GRAD(a) is not None for a in args) \
                or owner[n_head:n_head + n_args] != list(arg_storages) \
                or any(o in arg_storages for o in owner[n_head + n_args:]):
            return None
        # each filled slot held a tail tensor no other slot holds, with its own storage
        n_state_slots = len(slot_sig) - n_args
        for i in entry.new_slots:
            k = slot_sig[i]
            if i >= n_state_slots or k is None or k < n_head + n_args or \
                    slot_sig.count(k) != 1 or owner.count(owner[k]) != 1:
                return None
        return cls(walk, entry, key.parts, n_head, n_args, tensors, storages, owner,
                   slot_sig)

    def _read(self):
        """What the slots and tensors hold now (`expect`'s layout)."""
        return list(chain(map(id, map(_GRAD, self.grad_holders)),
                          map(id, map(dict.get, self.dicts, self.keys)),
                          map(_META, self.kept)))

    def matches(self, leaves, treedef, root_ids, args, grad_mode):
        """True when this call's guard is the plan's: the entry and layout hold.
        `root_ids`: the ids of the call's roots (CompiledCallable._root_ids)."""
        walk = self.walk
        if treedef != self.treedef or grad_mode != self.grad_mode or \
                len(args) != self.n_args or walk[1] != root_ids:
            return False
        state = self.state
        if walk[2] != state.fingerprint() or state.scalar_values() != self.scalars or \
                tuple((g._seed, g._key is None) for g in self.generators) != self.seeds:
            return False
        if self._read() != self.expect:
            return False
        if leaves and tuple(map(leaf_sig, leaves)) != self.leaf_sigs:
            return False
        return not args or self._fresh(args)

    def _fresh(self, args):
        """The arguments are tensors of their own: not state, no shared storage, no
        `.grad` (the layout the plan was made for)."""
        if self.ids is None:
            self.ids = (set(map(id, self.kept)), set(map(id, map(_STORAGE, self.kept))))
        tensor_ids, storage_ids = self.ids
        ids = set(map(id, args))
        storage = set(map(id, map(_STORAGE, args)))
        return (len(ids) == len(storage) == len(args) and ids.isdisjoint(tensor_ids) and
                storage.isdisjoint(storage_ids) and all(_GRAD(a) is None for a in args))

    def counters(self, tensors, owner):
        if self._counters is not None:
            return self._counters
        counters = version_counters(self.entry, tensors, owner)
        if self.keep_counters:
            self._counters = counters
        return counters

    def layout(self, args):
        """This call's state, tensors and storages in the program's order (the plan's
        own lists, with this call's arguments in their places: valid for this call)."""
        tensors, storages = self.tensors, self.storages
        if args:
            n, k = self.n_head, self.n_head_storages
            tensors[n:n + len(args)] = args
            storages[k:k + len(args)] = map(_STORAGE, args)
        return self.state, tensors, storages

    def release(self):
        """After a call with arguments: their places hold None until the next call."""
        n, k, m = self.n_head, self.n_head_storages, self.n_args
        self.tensors[n:n + m] = self.storages[k:k + m] = [None] * m

    def install(self, arrays):
        """The steady state's install (once `advance` has seen the new tensors): wraps
        the program's new arrays and puts them in their slots and in the plan at once."""
        tensors, kept, storages, expect = self.tensors, self.kept, self.storages, self.expect
        for (holder, slot, n, m, s, e, e_meta, device, requires_grad), array in zip(
                self.installs, arrays):
            t = _new(Tensor)        # (Tensor._wrap, without its frame: ~30 a call)
            t._init_from_array(array, device, requires_grad)
            if holder is not None:
                holder._grad = t        # (as Slot.set does for a `.grad`)
            else:
                slot.set(t)
            tensors[n] = kept[m] = t
            storages[s] = t._storage
            expect[e] = id(t)
            expect[e_meta] = _META(t)
        self.ids = None

    def advance(self, new_tensors):
        """After a call installed its results: the filled slots hold `new_tensors`.
        False when they would change the guard (then the next call takes the full
        path)."""
        tensors, kept, storages, expect = self.tensors, self.kept, self.storages, self.expect
        if not self.checked_new:
            # the first time: the new tensors must look like the ones they replace;
            # later calls of the same entry make tensors just like these
            if any(_tensor_sig(t) != _tensor_sig(tensors[n])
                   for (n, _, _), t in zip(self.replace, new_tensors)):
                return False
            self.checked_new = True
        # only the filled slots changed (install is the only writer during a call)
        for (n, m, s), (_, e), t in zip(self.replace, self.filled, new_tensors):
            tensors[n] = kept[m] = t
            storages[s] = t._storage
            expect[e] = id(t)
            expect[self.n_ids + m] = _META(t)
        self.ids = None
        return True
