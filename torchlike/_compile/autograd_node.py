"""A compiled call's results inside torchlike's autograd graph."""
import functools
import weakref

import jax
from jax._src.interpreters import partial_eval as pe

from .. import _jax_bridge as bridge
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.graph import SECOND_BACKWARD
from .plan import getter


def join_graph(entry, leaves, tensors, owner, in_arrays, counters):
    """The function's result, from its flat `leaves`, where the results that require grad
    join the autograd graph as one node, CompiledFunctionBackward, whose inputs are the
    tensors that require grad the call read (whole storages: parameters and arguments)
    and whose backward is the vjp of the program. A result whose graph a backward()
    inside the function already consumed gets the node too (PyTorch prints it), but
    differentiating it again raises PyTorch's error for a freed graph."""
    unflatten = entry.unflatten_results
    if entry.graded_at is None:     # (once per entry)
        _graded_positions(entry, tensors, owner)
    live = entry.graded_live
    if not live:        # (no result depends on a tensor that requires grad)
        return unflatten(leaves)
    inputs, positions = [], []
    any_live = any(live)
    reached = entry.graded_reach
    for t, k in zip(tensors, owner):    # (owner: the index of each tensor's storage)
        t = _differentiated(t)
        slot = entry.slot_of[k]         # (its program input)
        if t is not None and (slot in reached or not any_live) and slot not in positions:
            inputs.append(t)
            positions.append(slot)
            if not any_live:    # a node that only raises needs one input, not all
                break
    if not inputs:
        return unflatten(leaves)
    graded = entry.graded_at(leaves)
    if not any_live:
        _join_consumed(entry, graded, inputs[0])
        return unflatten(leaves)
    key = tuple(positions)
    pullback = entry.pullbacks.get(key)
    if pullback is None:
        pullback = entry.pullbacks[key] = jax.jit(functools.partial(
            _pullback, entry, key, entry.graded_mask))
    pullback = functools.partial(pullback, list(in_arrays), counters)
    joined = CompiledFunction.apply(pullback, live, graded, *inputs)
    joined = iter(joined if isinstance(joined, tuple) else (joined,))
    swap = {id(t): next(joined) for t in graded}
    return unflatten([swap.get(id(x), x) if isinstance(x, Tensor) else x for x in leaves])


def _differentiated(t):
    """The input of the results' node that stands for a tensor the call read, or None:
    the tensor of its whole storage (a parameter, an argument, or the base of a view
    argument: `head(h[:, 0])` differentiates `h`'s history), where that requires grad."""
    t = whole_tensor(t)
    return t if t is not None and (t._requires_grad or t._grad_fn is not None) else None


def whole_tensor(t):
    """t where it is its storage's whole tensor, else its base where that is, else None."""
    if t._whole:
        return t
    base = t._base
    return base if base is not None and base._whole and base._storage is t._storage else None


def _graded_positions(entry, tensors, owner):
    """The entry's results that join the graph: those that require grad and depend on a
    tensor that requires grad (a gradient constant in the parameters has no grad_fn, as
    in PyTorch), or whose graph is consumed. Sets `graded_at` (leaves -> those results,
    a getter of their places among the flat leaves), whether each can still be
    differentiated (`graded_live`), which tensor results the pullback differentiates
    (`graded_mask`) and the program inputs they depend on (`graded_reach`: a tensor they
    do not reach gets no gradient, None as in PyTorch, not zeros). Read off the program's
    jaxpr once per entry (its guard fixes which tensors require grad)."""
    differentiable = {entry.slot_of[k] for t, k in zip(tensors, owner)
                      if _differentiated(t) is not None}
    jaxpr = entry.closed.jaxpr
    first = entry.out_ends[1]           # (the tensor results come last among the outputs)
    graded, reach = [], set()
    for i, (requires, live) in enumerate(zip(entry.out_grad, entry.out_live)):
        mine = set()
        if requires and live:
            wanted = [False] * len(jaxpr.outvars)
            wanted[first + i] = True
            used = pe.dce_jaxpr(jaxpr, wanted)[1]
            mine = {j for j, u in enumerate(used) if u} & differentiable
            reach |= mine
        graded.append(bool(mine) or (requires and not live))
    tensor_at = [i for i, d in enumerate(entry.out_devices) if d is not None]
    entry.graded_live = tuple(live for live, g in zip(entry.out_live, graded) if g)
    entry.graded_at = getter([i for i, g in zip(tensor_at, graded) if g])
    entry.graded_mask = tuple(g and live for g, live in zip(graded, entry.out_live))
    entry.graded_reach = frozenset(reach)


def _join_consumed(entry, graded, first_input):
    """Results whose graph a backward() inside the function consumed (a training step's
    loss): their node only raises, so one node, made on the first call, serves every
    call of the entry that has the same first input (Function.apply costs more than the
    rest of such a call's bookkeeping)."""
    cached = entry.consumed_node
    if cached is None or cached[0]() is not first_input:
        joined = CompiledFunction.apply(None, (False,) * len(graded), graded, first_input)
        node = (joined[0] if isinstance(joined, tuple) else joined)._grad_fn
        entry.consumed_node = (weakref.ref(first_input), node)
    else:
        node = cached[1]
    for nr, t in enumerate(graded):     # (results are fresh tensors of this call)
        t._grad_fn, t._output_nr, t._requires_grad = node, nr, False


def _pullback(entry, positions, differentiated, in_arrays, counters, cotangents):
    def forward(diff):
        arrays = list(in_arrays)
        for p, d in zip(positions, diff):
            arrays[p] = d
        outs = jax.tree_util.tree_unflatten(entry.out_tree, entry.flat(*arrays, *counters))
        return [r for r, d in zip(outs[2], differentiated) if d]
    _, vjp = jax.vjp(forward, [in_arrays[p] for p in positions])
    return vjp(cotangents)[0]


class CompiledFunction(Function):
    """The node of a compiled call's results (PyTorch's CompiledFunctionBackward)."""

    _results_from_jax = True

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


def consumed(node):
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


