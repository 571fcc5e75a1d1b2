"""A compiled model's call in eager training: one pending op of the eager engine.

`model = torchlike.compile(model)`, then `loss = F.cross_entropy(model(x), y);
loss.backward()` outside, is PyTorch's most common use of torch.compile. Run as its own
XLA program, the call's results would join the graph as a CompiledFunction node whose
backward is a second program (the forward computed again inside its vjp), and that node
keeps the eager engine from fusing the backward (the loss's nodes run one by one).
Where the traced program gives tensors and writes nothing but whole storages (a model's
forward; dropout's draws; BatchNorm's running statistics, which eager batch_norm also
takes from its op's outputs), the call is instead one op of the eager engine's op table
(`entry_op`): pending like any recorded op and recorded as one node named
CompiledFunctionBackward, so the step's backward computes the forward and the gradients
in one fused program, as for an eager model.
"""
from .._ops import dispatch
from .._ops.registry import Op
from .autograd_node import _graded_positions, whole_tensor
from .plan import version_counters

_UNSET = object()


def call_as_op(entry, tensors, owner, storages, state):
    """The entry's results (flat leaves) as pending tensors of one recorded op, or None
    where the entry does more than give tensors and write storages (see _fits_an_op) or
    an input has no whole tensor. A program that draws random numbers takes the
    generators' counters as inputs, which then advance by its draws, as a call of the
    program advances them; a storage it writes takes the op's output for it."""
    op = entry_op(entry)
    if op is None:
        return None
    if entry.graded_at is None:     # (which results depend on what requires grad)
        _graded_positions(entry, tensors, owner)
    if not all(entry.graded_mask):  # (a result that joins no graph: join_graph's way)
        return None
    by_storage = {}
    for t, k in zip(tensors, owner):
        if k not in by_storage:
            t = whole_tensor(t)
            if t is not None:
                by_storage[k] = t
    n = len(storages)
    counters = state.counters() if entry.reads_counters else ()
    inputs = [by_storage.get(k) if k < n else counters[k - n] for k in entry.picked]
    if any(x is None for x in inputs):
        return None
    out = dispatch.apply(op, inputs)
    out = out if isinstance(out, tuple) else (out,)
    for g, draws in zip(state.generators, entry.draws):
        g._counter += draws
    if entry.changed:       # (the op's last outputs: written storages' new arrays)
        for st, t in zip(entry.changed_of(storages), out[len(out) - len(entry.changed):]):
            st.array = t._storage.array
            st.generation += 1
        for counter in version_counters(entry, tensors, owner):
            counter.value += 1
    results = iter(out)
    return [s if d is None else next(results)
            for s, d in zip(entry.out_static, entry.out_devices)]


def entry_op(entry):
    """The entry's program as an op (made once), or None where it cannot be one."""
    op = getattr(entry, "as_op", _UNSET)
    if op is _UNSET:
        op = entry.as_op = _make_op(entry) if _fits_an_op(entry) else None
    return op


def _fits_an_op(entry):
    """No slot filled or emptied, no Python value set, no number returned, no split: the
    program's tensor results are all it does, besides storages it writes whole (each its
    own output) and random draws, which call_as_op accounts for."""
    return (entry.split is None and not entry.eager and not entry.new_slots
            and not entry.none_slots and not entry.structural and not entry.scalar_after
            and not entry.symbol_slots and entry.expand_out is None
            and not any(entry.out_numbers) and all(entry.out_live)
            and any(d is not None for d in entry.out_devices))


def _make_op(entry):
    run = entry.run_fn

    written, _ = entry.out_ends       # (outputs: written storages, new tensors, results)

    def compiled_call(*arrays):
        flat = run(*arrays)
        flat = flat[written:] + flat[:written]      # (results first: autograd's order)
        return flat[0] if len(flat) == 1 else tuple(flat)
    return Op("compiled_call", compiled_call, "CompiledFunctionBackward")
