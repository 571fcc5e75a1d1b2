"""A compiled training step's first call, traced with the optimizer state it will leave.

An optimizer makes its state in its first step() (Adam's `step`, `exp_avg` and
`exp_avg_sq`; SGD's momentum buffer). Traced before that state exists, a step is a
program that creates it; the next call finds the state, a new guard, and traces and
compiles the whole step again. So before a first trace the optimizers' missing state is
made as their first step would make it (`first_step_state`) and the function is traced
with it as inputs: that program is the one every later call runs, and its first run
updates from that state exactly as the first step does.

The state a call leaves must still be eager mode's: the state made here is kept for the
parameters whose state the program writes (the update ran for them), and removed for the
others (a parameter without a gradient, a step not reached, a graph break) and where the
function changes the optimizer's hyperparameters, which a first state may be made from;
then the function is traced again as its state stands.
"""
from .._tensor import Tensor


class Made:
    """State entries filled in for one parameter, and what its slot held before."""
    __slots__ = ("optimizer", "param", "names", "had_dict")

    def __init__(self, optimizer, param, names, had_dict):
        self.optimizer, self.param, self.names, self.had_dict = optimizer, param, names, had_dict

    def tensors(self):
        state = self.optimizer.state.get(self.param, {})
        return [state[n] for n in self.names if isinstance(state.get(n), Tensor)]

    def undo(self):
        state = self.optimizer.state.get(self.param, {})
        for name in self.names:
            state.pop(name, None)
        if not self.had_dict and not state:
            self.optimizer.state.pop(self.param, None)


def fill(optimizers):
    """Gives every parameter that requires grad and has no state yet the state its
    optimizer's first step makes (where the optimizer can say it); returns what it did."""
    made = []
    for opt in optimizers:
        first_step_state = getattr(opt, "first_step_state", None)
        if first_step_state is None:
            continue
        for group in opt.param_groups:
            filled = []
            for p in group["params"]:
                if not p.requires_grad or opt.state.get(p):
                    continue
                initial = first_step_state(p, group)
                if initial:
                    had_dict = p in opt.state
                    opt.state.setdefault(p, {}).update(initial)
                    made.append(Made(opt, p, tuple(initial), had_dict))
                    filled.append(initial)
            if getattr(opt, "vector_scalars", False):
                _share_counts(filled, opt.scalar_state)
    return made


def _share_counts(states, names):
    """The group's new 0-dim counts (Adam's `step`: the same number for every parameter
    of a group) hold one array, as an eager step leaves them: the trace then sees one
    value, computes the group's scalars once, and leaves one array again
    (torchlike/_compile/aliases.py)."""
    first = {}
    for state in states:
        for name in names:
            t = state.get(name)
            if isinstance(t, Tensor) and t._whole and not t._shape:
                held = first.setdefault((name, t._dtype, t._storage.device), t)
                t._storage.array = held._raw()


def not_kept(made, entry, state, storages):
    """The entries of `made` that a call running `entry` must not leave: those of
    parameters the program does not update (none of their state is written: eager mode
    would make no state for them), and those of an optimizer whose param_groups the
    function changes (a state made from an lr the step no longer sees: Rprop's
    step_size, ASGD's eta)."""
    written = {id(storages[i]) for i in entry.changed}
    regrouped = {id(state.scalar_slots[i].holder) for i, _ in entry.scalar_after}
    return [m for m in made
            if not any(id(t._storage) in written for t in m.tensors())
            or any(id(g) in regrouped for g in m.optimizer.param_groups)]


def undo(made):
    for m in made:
        m.undo()
