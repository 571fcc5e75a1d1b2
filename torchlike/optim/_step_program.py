"""The optimizer's update run in one program with everything pending it needs.

`step()` leaves each group's update pending in _lazy's graph (`GROUP_UPDATE`) and then
computes all of them at once (`run`): the program takes in what the updates read that
is still pending, typically the fused backward that `loss.backward()` left pending
(autograd/_pending_backward.py) and, through it, the forward's pending inputs and the
loss. So an eager training step is one XLA program, run at `step()` (JAX dispatches it
asynchronously: the host goes on recording while it runs).

It runs at `step()` rather than when a value is observed because the program donates
the old optimizer state and parameters (XLA writes the new values into their buffers),
and only the optimizer knows which arrays may be donated (_donation.make_private,
_pending_backward.donatable).
"""
import functools

import jax

from .. import _lazy
from .._caches import LRU, release_if_over_budget

_programs = LRU(256)      # (pending structure, donated inputs) -> jitted program


class _Stats:
    calls = 0           # programs run
    programs = 0        # programs made (a structure met for the first time)


stats = _Stats()


class _GroupUpdate:
    """The op of a pending group update: bind((update, plans, scalar_out, state_counts))
    gives `_elementwise._group_update` as a function of flat arrays (the parameters,
    their gradients, their states one after the other, state_counts[i] for parameter
    i, then the scalar table) returning flat arrays (the new parameters, their new
    states one after the other, the new scalars)."""
    name = "group_update"

    @staticmethod
    def bind(params):
        from ._elementwise import _group_update
        update, plans, scalar_out, state_counts = params
        n = len(state_counts)

        def call(*arrays):
            states, k = [], 2 * n
            for count in state_counts:
                states.append(arrays[k:k + count])
                k += count
            new_params, new_states, new_scalars = _group_update(
                arrays[:n], arrays[n:2 * n], states, arrays[k], update=update, plans=plans,
                scalar_out=scalar_out)
            return (*new_params, *[a for st in new_states for a in st], *new_scalars)
        return call


GROUP_UPDATE = _GroupUpdate()


def run(roots, donated):
    """Compute the pending `roots` in one cached, jitted call, as _lazy.materialize
    does, donating the buffers of the `donated` arrays (each one private to its tensor
    and this program: _donation.py)."""
    release_if_over_budget()
    fn, kept, given, wanted = program(roots, donated)
    stats.calls += 1
    _lazy.install(wanted, fn(kept, given))


def program(roots, donated):
    """(jitted program, its kept inputs, its donated inputs, the Deferreds it computes)."""
    plan, outputs, externals, wanted = _lazy.plan(roots)
    layout, kept, given = _layout(externals, donated)
    key = (plan, outputs, layout)
    fn = _programs.get(key)
    if fn is None:
        stats.programs += 1
        fn = _programs[key] = jax.jit(functools.partial(_run_split, plan, outputs, layout),
                                      donate_argnums=(1,))
    return fn, kept, given, wanted


def _layout(externals, donated):
    """Each donated array is passed once (a parameter read by the backward and by the
    update is one argument); every other read is an argument of its own, as in
    _lazy.materialize, so that a program does not depend on which inputs happen to be
    one array (equal constants share one on a first step). Returns where each of
    `externals` comes from, as (donated, index), the kept arrays and the donated ones."""
    donated = {id(a) for a in donated}
    where, layout, kept, given = {}, [], [], []
    for a in externals:
        if id(a) not in donated:
            layout.append((False, len(kept)))
            kept.append(a)
            continue
        slot = where.get(id(a))
        if slot is None:
            slot = where[id(a)] = (True, len(given))
            given.append(a)
        layout.append(slot)
    return tuple(layout), kept, given


def _run_split(program, outputs, layout, kept, given):
    return _lazy.run_program(program, outputs,
                             [given[i] if donated else kept[i] for donated, i in layout])
