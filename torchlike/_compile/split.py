"""A graph break with fullgraph=False: the function splits there.

Python cannot resume a function in the middle, so the split works by replay. The trace
that met the break logs every op it ran before it (the op, its static parameters, its
inputs' shapes and dtypes) and returns those ops' results: that jaxpr is the prefix
program. A call then runs the prefix program once, on the call's state, then runs the
function eagerly with the log: each op that matches the next logged one takes its value
from the program's results instead of computing it (autograd records it as usual), so
everything before the break costs one compiled call, and the break and the rest run
eagerly (torchlike's eager mode fuses them lazily).

Sound because the prefix program is a pure function of the same state and generator
counters the eager run starts from, and the guard fixes the Python path up to the
break. Work done outside the op table (backward()'s gradients, random draws, factories)
is not in the log and simply runs eagerly again. The first op that does not match
(a different Python path, an op the trace ran another way) ends the replay: from there
on everything is computed eagerly, still the right answer.
"""
import jax
from jax._src.core import trace_ctx

from .. import _jax_bridge as bridge
from .breaks import counters


def _signature(arrays):
    return tuple((a.shape, a.dtype) if hasattr(a, "shape") else (type(a), a) for a in arrays)


class OpLog:
    """Filled during a trace (_jax_bridge.apply_traced): the ops before a break."""

    def __init__(self):
        self.entries = []       # (op, params, input signature, index of its results or None)
        self.results = []       # traced results, the prefix program's outputs
        self.trace = trace_ctx.trace

    def add(self, op, params, arrays, out):
        if trace_ctx.trace is not self.trace:
            # inside a transform of its own (torchlike.func): its tracers end with it, and
            # eagerly its ops are traced too, never replayed; neither side counts them
            return
        traced = any(isinstance(o, jax.core.Tracer) for o in jax.tree_util.tree_leaves(out))
        index = None
        if traced:      # (an op on constants only is folded at trace time: rerun eagerly)
            index = len(self.results)
            self.results.append(out)
        self.entries.append((op, params, _signature(arrays), index))


class Replay:
    """Active during a split call's eager run (dispatch.apply asks it for each op)."""

    def __init__(self, entries, values):
        self.entries, self.values, self.next = entries, values, 0

    def take(self, op, params, arrays):
        """The prefix program's result for this op, or None: compute it eagerly."""
        if self.next < len(self.entries):
            logged_op, logged_params, signature, index = self.entries[self.next]
            if logged_op is op and logged_params == params and \
                    signature == _signature(arrays):
                self.next += 1
                if self.next == len(self.entries):
                    bridge.state.replay = None      # the break: eager from here on
                return None if index is None else self.values[index]
        bridge.state.replay = None      # another path than the trace's: eager from here on
        counters["stats"]["split_replay_stopped"] += 1
        return None


class replaying:
    """Context: dispatch.apply replays the prefix program's values while it is active.
    (A compiled function called inside the prefix ran inline in the trace but runs as
    its own program here: the first op after it does not match, and replay ends.)"""

    def __init__(self, entries, values):
        self.replay = Replay(entries, values) if entries else None

    def __enter__(self):
        bridge.state.replay = self.replay

    def __exit__(self, *exc):
        bridge.state.replay = None
