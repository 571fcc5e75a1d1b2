"""The backward engine: replay the recorded graph through jax.vjp.

Two ways to run the same graph, giving the same gradients:

* fused: the whole subgraph becomes one pure function `replay(leaf values) -> roots`;
  `jax.vjp` of it, plus the accumulation into existing `.grad`s, is jitted and cached
  under the graph's structure, so a training loop traces once and then makes one
  compiled call per backward. Used whenever nothing needs Python between nodes.
* node by node: each node's cached vjp runs in reverse topological order, so that
  tensor hooks, retain_grad, custom Functions and create_graph (where the backward
  itself is recorded) can run between nodes.

Neither recurses over graph depth.
"""
import functools
import re
import sys
import time

import jax
from jax._src import config as jax_config
import jax.numpy as jnp

from .._storage import contiguous_strides, write_scope
from .._caches import LRU, release_if_over_budget
from .. import _background, _caches, _small_programs
from .. import _tensor      # (a module reference: _tensor imports this package)
from .. import _device
from .._device import scalar_arg
from .._lazy import Deferred, force, install, materialize, plan, run_program, top_level
from . import anomaly_mode as anomaly
from . import _plans
from .graph import SECOND_BACKWARD, AccumulateGrad, Node, release_saved
from .grad_mode import enable_grad, no_grad
from ..utils.hooks import RemovableHandle  # noqa: F401  (re-exported for hooks users)

# Graphs larger than this are replayed in segments of SEGMENT nodes, one fused vjp each,
# passing cotangents from segment to segment: tracing and compiling one huge replay costs
# more than it saves (XLA's compile time grows faster than the graph), and segments of a
# repetitive graph (a long chain, a deep stack of equal layers) share one compiled program.
# A negative FUSE_LIMIT runs every graph node by node (torchlike.compile's trace does).
FUSE_LIMIT = 512
SEGMENT = 256

_fused_cache = LRU(1024)        # graph structure -> jitted vjp
_compile_seconds = LRU(1024)    # graph structure -> CPU seconds of its first call
_caches.on_release.append(lambda: _small_programs.release(_fused_cache))
# A graph whose first call (trace and compile) took more CPU than this compiles its
# variant with pending inputs inside on a worker thread (_background), so that no step
# waits for it; a quicker one compiles it at once. Process CPU time, not wall time: other
# processes' load does not make a compile look slow (XLA compiles on several threads;
# here the tests' graphs take 0.02-0.5 s, a 2-layer transformer's backward about 2 s).
BACKGROUND_COMPILE_SECONDS = 1.0
# Set by DistributedDataParallel: (leaves, which have hooks) -> None, or a reducer whose
# .compile(vjp) puts the gradients' all-reduce into the fused program (.key joins the key)
fused_grad_reducer = None


class _Stats:
    """Counters that tests use to prove the cache works."""
    fused_traces = 0
    fused_calls = 0
    node_calls = 0


stats = _Stats()


def _forward_order(root_nodes):
    """Every node reachable from the roots, inputs before outputs: an iterative depth-first
    post-order (a node is expanded once; the graph is acyclic)."""
    order, expanded = [], set()
    stack = [(node, False) for node in reversed(root_nodes)]
    while stack:
        node, finished = stack.pop()
        if finished:
            order.append(node)
            continue
        if node in expanded:
            continue
        expanded.add(node)
        stack.append((node, True))
        for nxt, _ in node.edges:
            if nxt is not None and nxt not in expanded and type(nxt) is not AccumulateGrad:
                stack.append((nxt, False))
    return order


def _meta_backward(roots, targets, accumulate):
    """A backward through meta tensors (_meta.py): computes nothing. Each gradient is a
    meta tensor shaped and typed like what it is the gradient of, as PyTorch's meta
    kernels give; `.grad` of a leaf reached becomes one where it was None."""
    from .._meta import meta_array

    def meta_like(shape, dtype):        # (a torchlike dtype)
        return _tensor.Tensor._wrap(meta_array(shape, dtype.np), _device.META)
    order = _forward_order([n for n, _ in roots if isinstance(n, Node)])
    sinks = [n for n, _ in roots if type(n) is AccumulateGrad]
    sinks += [n for node in order for n, _ in node.edges if type(n) is AccumulateGrad]
    sinks = dict.fromkeys(sinks)
    if targets is not None:     # (None for a target the roots do not reach)
        reached = set(order)
        return [meta_like(node.variable.shape, node.variable.dtype) if node in sinks else
                meta_like(*node.out_avals[nr]) if node in reached else None
                for node, nr in targets]
    for sink in sinks:
        leaf = sink.variable
        if accumulate and leaf.grad is None:
            leaf.grad = meta_like(leaf.shape, leaf.dtype)
    return None


def _plain_walk(roots, device):
    """One walk over the graph of a plain .backward(), from the roots to the leaves, that
    orders its nodes (inputs first, iteratively), checks them and builds the fused
    program as it goes (see _build_program; here every leaf reached is a target).
    A constant read by several nodes (the same number, the same array) is one argument
    of the compiled call; each read of a leaf stays its own argument, so that its
    gradients are summed as the general path sums them (merging the reads changes the
    summation order, which a training run under Adam can amplify).
    Returns (order, position, program, diff_vals, const_vals, slot_leaf, leaves, remat),
    or None when the graph needs the general path (more than FUSE_LIMIT nodes, a root
    that is not a node, hooks, custom Functions, saved-tensor hooks, freed or modified
    saved tensors; the general path raises PyTorch's errors)."""
    stack = []
    for node, _ in reversed(roots):
        if type(node) is AccumulateGrad or node is None:
            return None
        stack.append(node)
    position, order, program = {}, [], []
    diff_vals, const_vals, slot_leaf = [], [], []
    leaves, const_slot = {}, {}          # leaf -> its index; id of a constant -> its slot
    remat = False
    expanded = set()
    while stack:
        node = stack.pop()
        if node in position:
            continue
        if node not in expanded:       # first visit: check it, then its inputs first
            if (node.op is None or node.freed or node.packed or node._pre_hooks
                    or node._hooks or node.tensor_hooks or node.retained):
                return None
            for i, counter, version, desc in node.saved:
                if counter.value != version:
                    return None
            expanded.add(node)
            if len(expanded) > FUSE_LIMIT:      # (segments: the general path's)
                return None
            stack.append(node)
            for nxt, _ in node.edges:
                if nxt not in expanded and nxt is not None and type(nxt) is not AccumulateGrad:
                    stack.append(nxt)
            continue
        # second visit: every input node is placed (a node met again through another
        # path is popped only after this one, since it was pushed before). An input
        # that is not placed is a leaf, a constant or a Python number.
        refs = []
        stale = node.stale
        numbers = False
        arrays, diff = node.arrays, node.diff
        for k, (nxt, nr) in enumerate(node.edges):
            p = position.get(nxt)
            if p is not None and diff[k] and (stale is None or k not in stale):
                refs.append((0, p, nr))
                continue
            array = arrays[k]
            if type(array) is Deferred and array._value is not None:
                array = array._value
            if p is None and diff[k] and nxt is not None:      # a leaf
                refs.append((1, len(diff_vals)))
                diff_vals.append(array)
                slot_leaf.append(leaves.setdefault(nxt, len(leaves)))
                continue
            if not hasattr(array, "shape"):
                numbers = True
                array = scalar_arg(array, device)
            slot = const_slot.get(id(array))
            if slot is None:
                slot = const_slot[id(array)] = len(const_vals)
                const_vals.append(array)
            # a stale input is replayed for its gradient, recorded for its value
            refs.append((2, slot) if p is None or not diff[k] else (3, p, nr, slot))
        if not numbers:
            # every argument is a tensor: next_functions is every edge, known without
            # reading the arrays again when release() drops them
            node._public_edges = node.edges
        if node.remat is not None:
            remat = True
        position[node] = len(order)
        order.append(node)
        program.append((node.op, node.params, tuple(refs)))
    if not leaves:
        return None
    return order, position, program, diff_vals, const_vals, tuple(slot_leaf), leaves, remat


def _prune(order, leaf_targets, node_targets):
    """PyTorch's pruning for autograd.grad and backward(inputs=...): only nodes through
    which a gradient reaches a target take part. Returns (reached, executed): a node
    whose own output is a target but that leads to no other target is reached (its
    incoming gradient is captured) but not run, so its saved tensors are not freed."""
    target_nodes = {n for n, _ in node_targets}
    reached, executed = [], set()
    useful = set()
    for node in order:                       # inputs before outputs
        leads = any(nxt in useful or nxt in leaf_targets for nxt, _ in node.edges
                    if nxt is not None)
        if leads:
            executed.add(node)
        if leads or node in target_nodes:
            useful.add(node)
            reached.append(node)
    return reached, executed


def _count_deps(nodes):
    """How many edges from `nodes` point at each node among them."""
    members = set(nodes)
    deps = {}
    for node in nodes:
        for nxt, _ in node.edges:
            if nxt in members:
                deps[nxt] = deps.get(nxt, 0) + 1
    return deps


def _topological(root_nodes, nodes):
    """Reverse topological order (outputs first) of `nodes`, by Kahn's algorithm."""
    members = set(nodes)
    remaining = _count_deps(nodes)
    ready = [n for n in dict.fromkeys(root_nodes) if n in members and remaining.get(n, 0) == 0]
    out = []
    while ready:
        node = ready.pop()
        out.append(node)
        for nxt, _ in node.edges:
            if nxt not in members:
                continue
            remaining[nxt] -= 1
            if remaining[nxt] == 0:
                ready.append(nxt)
    return out


def _check_saved(nodes):
    """PyTorch's errors for freed graphs and saved tensors modified in place, raised
    before anything is computed or accumulated."""
    for node in nodes:
        if node.freed:
            raise RuntimeError(SECOND_BACKWARD)
        for i, counter, version, desc in node.saved:
            if counter.value != version:
                raise RuntimeError(_modified_message(node, i, counter.value, version, desc))


def _short(node):
    return re.sub(r"Backward\d*$", "", node.name())


def _modified_message(node, i, now, expected, desc):
    from .._tensor import legacy_type_name
    if i == "result":
        type_name, shape, which = desc, node.out_avals[0][0], f", which is output 0 of {_short(node)},"
    else:
        t = desc
        type_name, shape = legacy_type_name(t), tuple(t.shape)
        fn = t.grad_fn
        which = f", which is output {t._output_nr} of {_short(fn)}," if fn is not None else ""
    return ("one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [{type_name} [{', '.join(map(str, shape))}]]{which} is at "
            f"version {now}; expected version {expected} instead. Hint: enable anomaly detection "
            "to find the operation that failed to compute its gradient, with "
            "torch.autograd.set_detect_anomaly(True, check_nan=False).")


_callbacks = []                 # run when the current backward ends (queue_callback)
_plain_backward = []            # per running backward: no `inputs`/autograd.grad targets


def checkpoint_valid():
    """Reentrant checkpoint works only inside a plain .backward() (PyTorch's rule)."""
    return bool(_plain_backward) and _plain_backward[-1]


def queue_callback(fn):
    """Call fn() when the backward now running has finished."""
    _callbacks.append(fn)


def run_backward(roots, root_grads, **options):
    """_run_backward, then the callbacks it queued; inside a jax trace (torchlike code
    under jax.jit), evaluated at trace time: the gradients of concrete leaves must not
    be tracers."""
    outer = len(_callbacks)
    _plain_backward.append(options.get("targets") is None)
    try:
        if top_level():
            result = _run_backward(roots, root_grads, **options)
        else:
            with jax.ensure_compile_time_eval():
                result = _run_backward(roots, root_grads, **options)
        while len(_callbacks) > outer:
            _callbacks.pop(outer)()
    finally:
        del _callbacks[outer:]
        _plain_backward.pop()
    return result


def _run_backward(roots, root_grads, *, retain_graph, create_graph, targets=None,
                  accumulate=True, root_tensors=()):
    """Propagate `root_grads` (Tensors) from `roots` (edges).

    targets: edges whose gradient is wanted (None: every leaf reached). With
    accumulate=True, gradients go into `.grad` and None is returned; otherwise the list
    of gradients (Tensor or None) for `targets` is returned."""
    if root_grads and root_grads[0].is_meta:
        return _meta_backward(roots, targets, accumulate)
    if (targets is None and accumulate and root_grads and not create_graph
            and FUSE_LIMIT >= 0 and not anomaly.state.enabled
            and _run_plain(roots, root_grads, retain_graph, root_tensors)):
        return None
    root_nodes = [n for n, _ in roots if isinstance(n, Node)]
    order = _forward_order(root_nodes)
    leaf_targets = None if targets is None else {n for n, _ in targets if isinstance(n, AccumulateGrad)}
    node_targets = {} if targets is None else {e: i for i, e in enumerate(targets)
                                              if isinstance(e[0], Node)}
    executed = None                              # None: every node in order runs
    if targets is not None:
        order, executed = _prune(order, leaf_targets, node_targets)
    _check_saved(order if executed is None else [n for n in order if n in executed])
    for node in order:
        if node.packed:
            node.unpack_saved()
    fusable = (not create_graph and not node_targets and FUSE_LIMIT >= 0
               and not anomaly.state.enabled
               and all(n.op is not None and not (n._pre_hooks or n._hooks or n.tensor_hooks
                                                     or n.retained) for n in order))
    if fusable and len(order) <= FUSE_LIMIT:
        leaf_grads = _run_fused(order, roots, root_grads, leaf_targets, accumulate,
                                _pending_values(root_tensors))
        results = None
    elif fusable:
        leaf_grads = _run_segmented(order, roots, root_grads, leaf_targets, accumulate,
                                    _pending_values(root_tensors))
        results = None
    else:
        topo = _topological(root_nodes, order)
        leaf_grads, results = _run_nodes(topo, roots, root_grads, leaf_targets, node_targets,
                                         create_graph, accumulate, executed)
    if not retain_graph:
        for node in order:
            if executed is None or node in executed:
                node.release()
    if accumulate:
        return None
    out = [None] * len(targets)
    for i, (n, _) in enumerate(targets):
        if isinstance(n, AccumulateGrad):
            out[i] = leaf_grads.get(n)
        elif results is not None:
            out[i] = results.get(i)
    return out


# -- fused --------------------------------------------------------------------------------
def _walk(roots, device):
    """(order, structure, diff_vals, const_vals, leaf list) of a plain backward's graph,
    or None where it needs the general path: by a remembered plan where the graph
    repeats one (_plans.py), else by _plain_walk, whose result becomes the plan of a
    structure met for the second time."""
    signature = _plans.root_signature(roots)
    if signature is not None:
        got = _plans.walk_as_planned(signature, roots, device)
        if got is not None:
            return got
    walked = _plain_walk(roots, device)
    if walked is None:
        return None
    order, position, program, diff_vals, const_vals, slot_leaf, leaves, remat = walked
    root_refs = [(position[node], nr) for node, nr in roots]
    regions = _remat_regions(order, program) if remat else ()
    structure, again = _plans.structure_of(program, root_refs, slot_leaf, len(leaves), regions)
    if again and signature is not None and not remat:
        # (checkpoint regions group nodes by their region object, which a plan does not
        # check: such graphs keep walking)
        _plans.remember(signature, _plans.Plan(order, position, leaves, program, structure,
                                                  len(const_vals)))
    return order, structure, diff_vals, const_vals, list(leaves)


def _run_plain(roots, root_grads, retain_graph, root_tensors):
    """A plain .backward() (every leaf reached gets its .grad) as one fused call: the
    training step's case, kept to one walk over the graph and little else. Returns
    False, having changed nothing, when the graph needs the general path."""
    walked = _walk(roots, root_grads[0]._storage.device)
    if walked is None:
        return False
    order, structure, diff_vals, const_vals, leaf_list = walked
    cotangents, wanted = [], []
    for k, (g, t) in enumerate(zip(root_grads, root_tensors or [None] * len(roots))):
        if t is not None and t._whole:     # its pending value comes back from the call
            a = t._storage.array
            if type(a) is Deferred and a._value is None:
                wanted.append((k, a))
        cotangents.append(g._data())
    if not structure.regions:
        wanted += _held_near_roots(order, structure)
        wanted += _held_siblings(order, structure)
    hooked, old = [], []
    for leaf in leaf_list:      # (_has_leaf_hooks and _old_grad inlined: once per parameter)
        t = leaf.variable
        h = bool(t._hooks or leaf._pre_hooks or leaf._hooks)
        hooked.append(h)
        old.append(None if h or t._grad is None else t._grad._data())
    old = tuple(old)
    reducer = fused_grad_reducer(leaf_list, hooked) if fused_grad_reducer else None
    s = structure
    grads, values = _fused_call(s.program, s.regions, s.root_refs, s.slot_target, old, wanted,
                                diff_vals, const_vals, cotangents, reducer, structure=s)
    if wanted:
        install([deferred for _, deferred in wanted], values)
    Tensor = _tensor.Tensor
    for leaf, g, o, h in zip(leaf_list, grads, old, hooked):
        t = leaf.variable
        if h or t._post_acc_hooks:
            _accumulate(t, Tensor._wrap(g, t._storage.device), create_graph=False,
                        already_summed=o is not None)
            continue
        # nothing to call: .grad becomes the sum (the old .grad plus the new gradient, or
        # the new gradient alone where there was none), inlined: once per parameter
        grad = t._grad
        if grad is None:
            grad = _new_object(Tensor)         # (Tensor._wrap, without its call)
            grad._init_from_array(g, t._storage.device)
            t._grad = grad if t._stride is None else _in_leaf_layout(t, grad)
        else:
            _replace_value(grad, g)
    if not retain_graph:
        release_saved(order)
    return True


# how many nodes before the roots _held_near_roots looks at
HELD_WINDOW = 4


def _held_near_roots(order, structure):
    """((node place, output), Deferred) for the pending values the last HELD_WINDOW
    nodes read that something outside the graph holds: the model's output and the loss
    a training loop reads after `backward()` and `step()` (an accuracy count of the
    logits, `loss.item()` after `scaler.scale(loss).backward()` or `(loss / n).backward()`).
    The fused call computes them anyway and hands them back; else reading one ran the
    forward again, in a program of its own queued after the optimizer's update (a small
    MLP's step with an accuracy count: 1.60 -> 2.65 ms). Only values made by nodes from
    just before the window on, all of whose readers in the graph are in it, so that the
    references counted are all the graph's: the readers' input tuples, and the tensors
    that the readers saved (a saved view keeps its base too), each of which holds its
    value from outside only where it has more references than the graph's."""
    near = structure.near_roots
    if near is None:
        near = structure.near_roots = _near_roots(structure.program)
    reads_at, window = near
    reads = {}                      # id -> [the Deferred, its reads in the window, place]
    for q, j, place in reads_at:
        a = order[q].arrays[j]
        # (the value the node that made it made: not one written over it through .data,
        # which the replay does not see)
        if type(a) is Deferred and a._value is None and a.node is order[place[0]]:
            entry = reads.get(id(a))
            if entry is None:
                reads[id(a)] = [a, 1, place]
            else:
                entry[1] += 1
    if not reads:
        return ()
    saved = {}                      # id of a value -> [a tensor the graph keeps, references]
    views = set()                   # ids of the saved views counted
    for q in window:
        for i, _, _, t in order[q].saved:
            if i != "result":
                _count_holder(saved, t)
                # a saved view keeps its base (and their storage) alive
                if t._base is not None and id(t) not in views:
                    views.add(id(t))
                    _count_holder(saved, t._base)
    a = t = entry = None            # (the loops' names would count as references)
    held = []
    for key, entry in reads.items():
        kept = saved.get(key)
        if kept is False:                       # (two tensors share the value: unsure)
            continue
        # references: those counted, the entry's list, getrefcount's argument
        if sys.getrefcount(entry[0]) > entry[1] + 2 if kept is None else \
                sys.getrefcount(kept[0]) > kept[1] + 2:
            held.append((entry[2], entry[0]))
    return held


def _near_roots(program):
    """What _held_near_roots looks at in a program: (node place, input index, (place,
    output) of the node that made it) for each input of the last HELD_WINDOW nodes made
    by a node from just before them on, and the places of those last nodes."""
    first = max(0, len(program) - HELD_WINDOW)
    reads_at = tuple([(q, j, (ref[1], ref[2])) for q in range(first, len(program))
                      for j, ref in enumerate(program[q][2])
                      if ref[0] == 0 and ref[1] >= first - 1])
    return reads_at, range(first, len(program))


def _held_siblings(order, structure):
    """((node place, output), Deferred) for the pending outputs of the graph's
    several-output ops that nothing in the graph reads but something still holds: the
    new running statistics batch_norm gives its buffers, a compiled model's written
    buffers (_compile/pending.py). The fused call computes them with the forward; left
    pending, a buffer held the step's inputs, and the next step's backward computed the
    step's forward again for it, in a program of its own (its pending input)."""
    siblings = structure.siblings
    if siblings is None:
        siblings = structure.siblings = _sibling_places(order, structure)
    held = []
    for place, reader, j, unread in siblings:
        d = order[reader].arrays[j]
        if type(d) is not Deferred or d._value is not None or d.call is None:
            continue
        outs = d.call.outs
        for i in unread:
            s = outs[i]()
            if s is not None and s._value is None:
                held.append(((place, i), s))
    return held


def _sibling_places(order, structure):
    """(place of a several-output node, the place of a node reading one of its outputs,
    that input's index, the outputs nothing in the program reads) for _held_siblings."""
    read, reader_of = {}, {}
    for q, (_, _, refs) in enumerate(structure.program):
        for j, ref in enumerate(refs):
            if ref[0] in (0, 3):
                read.setdefault(ref[1], set()).add(ref[2])
                reader_of.setdefault(ref[1], (q, j))
    for p, nr in structure.root_refs:
        read.setdefault(p, set()).add(nr)
    out = []
    for p, (q, j) in reader_of.items():
        unread = tuple(i for i in range(len(order[p].out_avals)) if i not in read[p])
        if unread:
            out.append((p, q, j, unread))
    return tuple(out)


def _count_holder(saved, t):
    """One more reference to tensor t from the graph, filed under its value's id (as
    t._raw() gives it: its storage's array, or a view's own value); False where two
    tensors hold one value."""
    key = id(t._storage.array if t._whole else t._cache)
    entry = saved.get(key)
    if entry is None:
        saved[key] = [t, 1]
    elif entry is not False:
        if entry[0] is t:
            entry[1] += 1
        else:
            saved[key] = False


def _pending_values(tensors):
    """The roots' values still pending (Deferred): the fused backward computes them anyway,
    so it hands them back and `loss.item()` after backward costs nothing more."""
    out = []
    for t in tensors:
        a = t._storage.array if t._whole else None
        out.append(a if type(a) is Deferred and a._value is None else None)
    return out


def _run_fused(forward, roots, root_grads, leaf_targets, accumulate, pending=()):
    from .._tensor import Tensor
    device = root_grads[0].device if root_grads else None
    index, program, diff_vals, const_vals, slot_targets = _build_program(
        forward, leaf_targets, device)
    leaves = {}
    slot_leaf = tuple(leaves.setdefault(leaf, len(leaves)) for leaf in slot_targets)
    root_refs, cotangents, direct, wanted = [], [], [], []
    pending = list(pending) + [None] * (len(roots) - len(pending))
    for (node, nr), g, value in zip(roots, root_grads, pending):
        if isinstance(node, AccumulateGrad):
            direct.append((node, g))
        elif node in index:                      # (a pruned root leads to no target)
            if value is not None:
                wanted.append((len(root_refs), value))
            root_refs.append((index[node], nr))
            cotangents.append(g._data())
    leaf_list = list(leaves)
    # Existing .grad values are added inside the compiled call (None: no .grad, or a
    # leaf with hooks, which must see its raw gradient)
    hooked = [_has_leaf_hooks(leaf) for leaf in leaf_list]
    old = tuple(_old_grad(leaf) if accumulate and not h else None
                for leaf, h in zip(leaf_list, hooked))
    grads = ()
    if leaf_list:
        # DDP's hook: its gradient all-reduce compiled into this program (or None)
        reducer = (fused_grad_reducer(leaf_list, hooked)
                   if fused_grad_reducer and accumulate else None)
        grads, values = _fused_call(program, _remat_regions(forward, program), root_refs,
                                    slot_leaf, old, wanted, diff_vals, const_vals, cotangents,
                                    reducer)
        install([deferred for _, deferred in wanted], values)
    out = {}
    for leaf, g, o in zip(leaf_list, grads, old):
        out[leaf] = Tensor._wrap(g, leaf.variable.device)
        if accumulate:
            _accumulate(leaf.variable, out[leaf], create_graph=False, already_summed=o is not None)
    _add_direct(out, direct, leaf_targets, accumulate)
    return out


def _add_direct(out, direct, leaf_targets, accumulate):
    """Gradients handed straight to a leaf (a root that is itself a leaf)."""
    for leaf, g in direct:
        if leaf_targets is None or leaf in leaf_targets:
            out[leaf] = out[leaf] + g if leaf in out else g
            if accumulate:
                _accumulate(leaf.variable, g, create_graph=False)


def _build_program(nodes, leaf_targets, device, earlier=None):
    """The replay program of `nodes` (inputs before outputs) for _fused_vjp:
    (index, program, diff_vals, const_vals, slot_targets). A differentiable input that
    comes from a leaf, or from a node of the `earlier` segments (a mapping whose keys are
    those nodes), is a slot of diff_vals;
    slot_targets names where its gradient goes (the AccumulateGrad, or (node, nr))."""
    index = {node: k for k, node in enumerate(nodes)}
    program, diff_vals, const_vals, slot_targets = [], [], [], []
    float_slot = {}             # id of a Python float -> its slot in const_vals
    for node in nodes:
        refs = []
        stale = node.stale or ()
        for k, ((nxt, nr), array, diff) in enumerate(zip(node.edges, node.arrays, node.diff)):
            if nxt is not None and diff and nxt in index:
                if k in stale:      # replayed for its gradient, recorded for its value
                    refs.append((3, index[nxt], nr, len(const_vals)))
                    const_vals.append(_computed_or_pending(array))
                else:
                    refs.append((0, index[nxt], nr))
            elif diff and ((earlier is not None and nxt in earlier) or (
                    isinstance(nxt, AccumulateGrad) and (
                    leaf_targets is None or nxt in leaf_targets))):
                # (an input written in place after nxt made it is its recorded value
                # here too: the gradient still goes to nxt, as _with_value passes it)
                refs.append((1, len(diff_vals)))
                diff_vals.append(_computed_or_pending(array))
                slot_targets.append(nxt if isinstance(nxt, AccumulateGrad) else (nxt, nr))
            elif type(array) is float:
                # one argument per float object, as _lazy.plan passes them: the 1.001 of
                # `y * 1.001` in a loop is converted and passed once, not once per node
                slot = float_slot.get(id(array))
                if slot is None:
                    slot = float_slot[id(array)] = len(const_vals)
                    const_vals.append(scalar_arg(array, device))
                refs.append((2, slot))
            else:
                refs.append((2, len(const_vals)))
                const_vals.append(_computed_or_pending(array) if hasattr(array, "shape")
                                  else scalar_arg(array, device))
        program.append((node.op, node.params, tuple(refs)))
    return index, program, diff_vals, const_vals, slot_targets


def _jitted_vjp(key, want, prelude, regions, reducer):
    """The jitted function of _fused_call's `key` (jax.jit keys its caches on this
    function's identity: one per key, kept in _fused_cache)."""
    s = key[0]
    vjp = functools.partial(_fused_vjp, s.program, s.root_refs, s.slot_target, s.n_targets,
                            want, prelude, regions)
    return reducer.compile(vjp) if reducer else jax.jit(vjp)


def _call_args(diff_vals, const_vals, cotangents, old, pre_externals):
    return tuple(diff_vals), tuple(const_vals), tuple(cotangents), old, pre_externals


def _fused_call(program, regions, root_refs, slot_target, old, wanted, diff_vals, const_vals,
                cotangents, reducer=None, structure=None):
    """One cached, jitted vjp of `program`: the gradient of each target (slot_target maps
    each diff slot to a target index; old[i] is added to target i's gradient unless it
    is None) and the values of the roots listed in `wanted`. Pending inputs are computed
    in the same call (the prelude); checkpoint `regions` replay under jax.checkpoint;
    a DDP `reducer` compiles its gradient all-reduce into the program. `structure`, the
    _plans.structure_of of the first four and len(old), where the caller has it."""
    release_if_over_budget()
    if structure is None:
        structure = _plans.structure_of(program, root_refs, slot_target, len(old), regions)[0]
    prelude, pre_externals, pre_wanted = _prelude(diff_vals, const_vals)
    want = tuple([i for i, _ in wanted])
    key = (structure, tuple([o is None for o in old]), want, prelude, reducer and reducer.key)
    fn = _fused_cache.get(key)
    if fn is None and prelude is not None:
        without = key[:3] + (None,) + key[4:]
        # A graph seen for the first time: its pending inputs are often one-off (the
        # parameters' initialization), and the next step's are computed already. So
        # compute them on their own, and compile the graph without them: the next step
        # then reuses this compile instead of compiling the whole backward again.
        # Seen again with pending inputs, the graph compiles with them inside (one call
        # a step); where that compile is slow, on a worker thread, splitting meanwhile.
        # Pending inputs that every step makes anew (a dropout mask, a permuted input)
        # compile inside the graph from its first sight.
        split = without not in _fused_cache and not _made_every_step(prelude)
        if without in _fused_cache and reducer is None and \
                _compile_seconds.get(without, 0.0) > BACKGROUND_COMPILE_SECONDS:
            fn = _background.compiled(key)
            if fn is None:
                split = True
                _background.compile_later(
                    key, _jitted_vjp(key, want, prelude, regions, None),
                    _call_args(diff_vals, const_vals, cotangents, old, pre_externals))
            else:
                _fused_cache[key] = fn
        if split:
            materialize(pre_wanted)
            values = [d._value for d in pre_wanted]
            diff_vals[:] = _with_prelude_values(diff_vals, prelude[2], values)
            const_vals[:] = _with_prelude_values(const_vals, prelude[3], values)
            prelude, pre_externals, pre_wanted, key = None, (), (), without
            fn = _fused_cache.get(key)
    args = _call_args(diff_vals, const_vals, cotangents, old, pre_externals)
    stats.fused_calls += 1
    if fn is None:
        fn = _fused_cache[key] = _jitted_vjp(key, want, prelude, regions, reducer)
        started = time.process_time()
        grads, values, pre_values = fn(*args) if reducer else \
            _small_programs.first_call(fn, args, _fused_cache, key)
        _compile_seconds[key] = time.process_time() - started
    elif type(fn) is _small_programs.Quick:
        try:                # (its executable's own call, without Quick's Python frame)
            grads, values, pre_values = fn.run(*args)
        except (TypeError, ValueError):     # (other shapes, or released: Quick decides)
            grads, values, pre_values = fn(*args)
    else:
        grads, values, pre_values = fn(*args)
    install(pre_wanted, pre_values)
    return grads, values


# Pending inputs made only by these ops are made again at every step: random draws
# (dropout masks) and views (an input reshaped or permuted, as a model's input often
# is), not one-off values such as a parameter's initialization.
_EVERY_STEP = frozenset(("random_sample", "view", "permute", "expand", "select", "slice"))


def _made_every_step(prelude):
    """Whether a prelude's (see _prelude) ops all look like ones a step makes anew."""
    return all(entry[0].name in _EVERY_STEP for entry in prelude[0])


class _Prefix:
    """`node in _Prefix(position, n)`: node is one of the first n nodes of the order that
    `position` (node -> place) numbers."""
    __slots__ = ("position", "n")

    def __init__(self, position, n):
        self.position, self.n = position, n

    def __contains__(self, node):
        return self.position.get(node, self.n) < self.n


def _run_segmented(forward, roots, root_grads, leaf_targets, accumulate, pending=()):
    """A large graph's backward as a sequence of fused vjps over segments of SEGMENT
    nodes, last segment first; the gradient reaching a node of an earlier segment is
    carried to that segment as its cotangent."""
    from .._tensor import Tensor
    device = root_grads[0].device if root_grads else None
    materialize([p for p in pending if p is not None])
    cotangents, direct = {}, []
    for (node, nr), g in zip(roots, root_grads):
        if isinstance(node, AccumulateGrad):
            direct.append((node, g))
        else:
            cotangents[(node, nr)] = _add(cotangents.get((node, nr)), g._data())
    leaf_grads = {}
    position = {node: k for k, node in enumerate(forward)}
    for start in reversed(range(0, len(forward), SEGMENT)):
        segment = forward[start:start + SEGMENT]
        earlier = _Prefix(position, start)
        index, program, diff_vals, const_vals, slot_targets = _build_program(
            segment, leaf_targets, device, earlier)
        # the cotangents reaching this segment, in its order (few: those that crossed
        # from later segments, and the roots'; looking each node up cost more)
        reaching = sorted((index[node], nr, (node, nr)) for node, nr in cotangents
                          if node in index)
        root_refs = [(k, nr) for k, nr, _ in reaching]
        cts = [cotangents.pop(edge) for _, _, edge in reaching]
        if not root_refs or not slot_targets:
            continue
        # a depth cut leaves the values only nodes saved pending: compute the few this
        # segment reads (what an earlier segment hands it) in a call of their own, which
        # repeats like the segments do (inside the segment's call, as a prelude, a new
        # graph would compile every segment twice: without it on first sight, then with)
        inputs_pending = [a for a in diff_vals + const_vals if type(a) is Deferred]
        if inputs_pending:
            materialize(inputs_pending)
            diff_vals = [_computed_or_pending(a) for a in diff_vals]
            const_vals = [_computed_or_pending(a) for a in const_vals]
        targets = {}
        slot_ids = tuple(targets.setdefault(t, len(targets)) for t in slot_targets)
        grads, _ = _fused_call(program, _remat_regions(segment, program), root_refs, slot_ids,
                               (None,) * len(targets), (), diff_vals, const_vals, cts)
        for target, g in zip(targets, grads):
            sums = leaf_grads if isinstance(target, AccumulateGrad) else cotangents
            sums[target] = _add(sums.get(target), g)
    out = {}
    for leaf, g in leaf_grads.items():
        out[leaf] = Tensor._wrap(g, leaf.variable.device)
        if accumulate:
            _accumulate(leaf.variable, out[leaf], create_graph=False)
    _add_direct(out, direct, leaf_targets, accumulate)
    return out


def _computed_or_pending(array):
    """The array, its computed value if it is a computed Deferred, or the pending Deferred."""
    if type(array) is Deferred and array._value is not None:
        return array._value
    return array


def _prelude(diff_vals, const_vals):
    """Inputs of the fused graph that are still pending (a dropout mask, a freshly drawn
    input, a parameter updated without history) are computed inside the same compiled
    call, before the vjp: their pending ops form a prelude program. Each pending slot of
    diff_vals/const_vals is replaced by None in place.
    Returns (static description, prelude inputs, the Deferreds it computes)."""
    if Deferred not in map(type, diff_vals) and Deferred not in map(type, const_vals):
        return None, (), ()           # (the usual case, tested without a Python loop)
    for vals in (diff_vals, const_vals):   # (reading old .grads may have computed some)
        vals[:] = [_computed_or_pending(a) for a in vals]
    pending = [a for a in diff_vals + const_vals if type(a) is Deferred]
    if not pending:
        return None, (), ()
    program, outputs, externals, wanted = plan(pending)
    position = {id(d): k for k, d in enumerate(wanted)}
    sources = []
    for vals in (diff_vals, const_vals):
        sources.append(tuple([position[id(a)] if type(a) is Deferred else -1 for a in vals]))
        vals[:] = [None if type(a) is Deferred else a for a in vals]
    return (program, outputs, sources[0], sources[1]), externals, wanted


def _with_prelude_values(vals, sources, pre_values):
    """`vals` with each slot that `_prelude` emptied given its computed value (sources[i]
    is the slot's index in the prelude's outputs, or -1 for a slot that was not pending)."""
    return [v if k < 0 else pre_values[k] for k, v in zip(sources, vals)]


def _old_grad(leaf):
    """The .grad the fused call adds its gradient to, or None where there is none: the
    call then returns the gradient itself (a missing .grad costs no zeros, no input
    buffer and no addition; a loop that keeps its .grads, zero_grad(set_to_none=False)
    or accumulation over micro-batches, compiles a second program once)."""
    grad = leaf.variable._grad
    return None if grad is None else grad._data()


@jax.custom_vjp
def _with_value(replayed, recorded):
    """`recorded`'s value with `replayed`'s gradient: an input written in place under
    no_grad after its node made it (the gradient passes through the node unchanged, as
    PyTorch's does)."""
    return recorded


def _with_value_fwd(replayed, recorded):
    return recorded, None


def _with_value_bwd(_, g):
    return g, None


_with_value.defvjp(_with_value_fwd, _with_value_bwd)


def _remat_regions(forward, program):
    """The positions of the nodes of each checkpoint(use_reentrant=False) region that the
    replay runs as one jax.checkpoint call (so backward recomputes the region instead of
    keeping its intermediates): every node value it reads from outside the region must be
    computed before the region's first node. Other regions replay plainly."""
    members = {}
    for k, node in enumerate(forward):
        if node.remat is not None:
            members.setdefault(node.remat, []).append(k)
    regions = []
    for ks in members.values():
        inside, first = frozenset(ks), ks[0]
        if all(ref[0] not in (0, 3) or ref[1] in inside or ref[1] < first
               for k in ks for ref in program[k][2]):
            regions.append(tuple(ks))
    return tuple(regions)


def _arg(ref, outs, diff_vals, const_vals):
    """The value a replayed node reads through `ref` (see _run_fused)."""
    kind = ref[0]
    if kind == 0:
        return outs[ref[1]][ref[2]]
    if kind == 3:
        return _with_value(outs[ref[1]][ref[2]], const_vals[ref[3]])
    return diff_vals[ref[1]] if kind == 1 else const_vals[ref[1]]


def _replay_region(program, members, outs, diff_vals, const_vals):
    """Replay a checkpoint region's nodes as one jax.checkpoint call: its residuals are
    its inputs only, so the backward recomputes the region's intermediates."""
    inside = frozenset(members)
    external = {ref[1]: outs[ref[1]] for k in members for ref in program[k][2]
                if ref[0] in (0, 3) and ref[1] not in inside}

    def run_region(external, diff_vals, const_vals):
        local = dict(external)
        for k in members:
            op, params, refs = program[k]
            y = op.bind(params)(*[_arg(r, local, diff_vals, const_vals) for r in refs])
            local[k] = y if isinstance(y, (tuple, list)) else (y,)
        return [local[k] for k in members]
    for k, y in zip(members, jax.checkpoint(run_region)(external, diff_vals, const_vals)):
        outs[k] = y


def _fused_vjp(program, root_refs, slot_leaf, n_leaves, want, prelude, regions, diff_vals,
               const_vals, cotangents, old, pre_externals):
    stats.fused_traces += 1
    pre_values = ()
    if prelude is not None:
        pre_program, pre_outputs, diff_src, const_src = prelude
        pre_values = run_program(pre_program, pre_outputs, pre_externals)
        diff_vals = _with_prelude_values(diff_vals, diff_src, pre_values)
        const_vals = _with_prelude_values(const_vals, const_src, pre_values)

    region_at = {members[0]: members for members in regions}
    in_region = frozenset(k for members in regions for k in members)
    # `want`: the roots whose values are handed back (their indices), then the other
    # forward values asked for (their (node, output) places: _held_near_roots)
    roots_wanted = [w for w in want if type(w) is int]
    inputs_wanted = [w for w in want if type(w) is not int]

    def replay(diff_vals):
        outs = [None] * len(program)
        for k, (op, params, refs) in enumerate(program):
            if k in in_region:           # computed when the region's first node is reached
                if k in region_at:
                    _replay_region(program, region_at[k], outs, diff_vals, const_vals)
                continue
            y = op.bind(params)(*[_arg(ref, outs, diff_vals, const_vals) for ref in refs])
            outs[k] = y if isinstance(y, (tuple, list)) else (y,)
        return [outs[i][nr] for i, nr in root_refs], [outs[i][nr] for i, nr in inputs_wanted]

    values, pullback, input_values = jax.vjp(replay, list(diff_vals), has_aux=True)
    cts = [_conj(c.astype(v.dtype)) for c, v in zip(cotangents, values)]
    (slot_grads,) = pullback(cts)
    slot_grads = [_conj(g) for g in slot_grads]
    grads = [None] * n_leaves
    for leaf, g in zip(slot_leaf, slot_grads):
        grads[leaf] = g if grads[leaf] is None else grads[leaf] + g
    # accumulate into existing .grad values in the same compiled call
    grads = tuple(g if o is None else (o + g).astype(o.dtype) for g, o in zip(grads, old))
    return grads, tuple(values[i] for i in roots_wanted) + tuple(input_values), pre_values


# -- node by node -------------------------------------------------------------------------
def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _run_nodes(topo, roots, root_grads, leaf_targets, node_targets, create_graph, accumulate,
               executed=None):
    buffers = {}
    leaf_grads = {}
    results = {}
    # every node runs on concrete inputs
    _materialize_saved(reversed(topo))
    for node in topo:
        if node.arrays:
            node.arrays = tuple(force(a) for a in node.arrays)
    mode = enable_grad() if create_graph else no_grad()
    with mode:
        for (node, nr), g in zip(roots, root_grads):
            if isinstance(node, AccumulateGrad):
                leaf_grads[node] = _add(leaf_grads.get(node), g)
            else:
                slots = buffers.setdefault(node, [None] * len(node.out_avals))
                slots[nr] = _add(slots[nr], g)
        for node in topo:
            grads = buffers.pop(node, None)
            if grads is None:
                continue
            grads = _output_hooks(node, grads, create_graph)
            for nr, g in enumerate(grads):
                k = node_targets.get((node, nr))
                if k is not None:
                    results[k] = g
            if executed is not None and node not in executed:
                continue
            grads = _node_pre_hooks(node, grads)
            stats.node_calls += 1
            if anomaly.state.enabled:
                input_grads = _anomaly_checked_backward(node, grads, create_graph)
            else:
                input_grads = node_backward(node, grads, create_graph)
            if node._hooks:
                for hook in list(node._hooks.values()):
                    r = hook(tuple(input_grads), tuple(grads))
                    if r is not None:
                        input_grads = _checked_grads(hook, r, input_grads)
            for (nxt, nr), g in zip(node.edges, input_grads):
                if nxt is None or g is None:
                    continue
                if isinstance(nxt, AccumulateGrad):
                    if leaf_targets is None or nxt in leaf_targets:
                        leaf_grads[nxt] = _add(leaf_grads.get(nxt), g)
                else:
                    slots = buffers.setdefault(nxt, [None] * len(nxt.out_avals))
                    slots[nr] = _add(slots[nr], g)
        if accumulate:
            for leaf, g in leaf_grads.items():
                _accumulate(leaf.variable, g, create_graph)
    return leaf_grads, results


def _materialize_saved(forward):
    """Compute the pending arrays that the nodes of `forward` (inputs first) saved. A
    depth cut leaves values that only nodes hold pending, so in a long graph they form
    one long pending chain: computed about SEGMENT values at a time, in forward order,
    each call starts from the values the one before computed, and the programs stay
    small (and repeat)."""
    pending = []
    for node in forward:
        if node.arrays:
            pending.extend([a for a in node.arrays if type(a) is Deferred])
        if len(pending) >= SEGMENT:
            materialize(pending)
            pending = []
    materialize(pending)


def _anomaly_checked_backward(node, grads, create_graph):
    try:
        input_grads = node_backward(node, grads, create_graph)
        if anomaly.state.check_nan:
            anomaly.check_nan(node, input_grads)
    except Exception:
        anomaly.warn_forward_trace(node)
        raise
    return input_grads


def _hook_name(hook):
    return getattr(hook, "__name__", None) or type(hook).__name__


def _checked_grad(hook, new, old):
    """A tensor hook's replacement gradient, refused as PyTorch refuses it."""
    from .._tensor import Tensor, legacy_type_name
    if not isinstance(new, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(new).__name__}'")
    if old is not None:
        if tuple(new.shape) != tuple(old.shape):
            raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the size of value")
        if new.dtype is not old.dtype:
            raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the type of value (was "
                               f"{legacy_type_name(old)} got {legacy_type_name(new)})")
    return new


def _checked_grads(hook, new, old):
    """A node hook's replacement tuple of gradients, checked for length and each entry."""
    new = list(new)
    if len(new) != len(old):
        raise RuntimeError(f"hook '{_hook_name(hook)}' has returned an incorrect number of "
                           f"values (got {len(new)}, but expected {len(old)})")
    return [n if n is None else _checked_grad(hook, n, o) for n, o in zip(new, old)]


def _node_pre_hooks(node, grads):
    if node._pre_hooks:
        for hook in list(node._pre_hooks.values()):
            r = hook(tuple(grads))
            if r is not None:
                grads = _checked_grads(hook, r, grads)
    return grads


def _tensor_hooks(hooks, g):
    """Hooks registered with Tensor.register_hook, in order; each may replace g."""
    for hook in list(hooks.values()):
        r = hook(g)
        if r is not None:
            g = _checked_grad(hook, r, g)
    return g


def _output_hooks(node, grads, create_graph):
    """Tensor hooks registered on this node's outputs (called with None for an output
    that got no gradient, as PyTorch does), then retain_grad."""
    grads = list(grads)
    if node.tensor_hooks:
        for nr, hooks in node.tensor_hooks.items():
            grads[nr] = _tensor_hooks(hooks, grads[nr])
    if node.retained:
        for nr, ref in node.retained.items():
            t = ref()
            if t is not None and grads[nr] is not None:
                _store_grad(t, grads[nr], create_graph)
    return grads


def _materialize(node, grads):
    from .._tensor import Tensor
    out = []
    for g, (shape, dtype) in zip(grads, node.out_avals):
        if g is None and (dtype.is_floating_point or dtype.is_complex):
            g = Tensor._wrap(jnp.zeros(shape, dtype.np))
        out.append(g)
    return out


def node_backward(node, grads, create_graph):
    """Input gradients (Tensor or None per input) of one node."""
    if node.op is None:            # a custom autograd.Function
        return node.apply_backward(grads)
    if node.arrays is None:
        raise RuntimeError(SECOND_BACKWARD)
    from .._tensor import Tensor
    if create_graph:
        from .higher_order import recorded_vjp
        return recorded_vjp(node, _materialize(node, grads))
    cts = tuple(None if g is None else _conj(g._data()) for g in grads)
    traced = None
    if not top_level():
        from .._jax_bridge import state as traced
    if traced is not None and (traced.compiling or any(
            isinstance(a, jax.core.Tracer) for a in (*node.arrays, *cts))):
        # a traced node inside a JAX trace (torchlike.compile): inline, as
        # _jax_bridge.apply_traced does; a jitted vjp per node is a nested program. Its
        # constants (a relu's zeros) are staged, not folded: folding compiles a small
        # program for each. A node of concrete values is staged too in torchlike.compile's
        # trace (its gradients are values of the program); elsewhere (jax.jit) it keeps
        # its one cached jitted vjp: run op by op, its primitives compile one by one.
        from .._ops.registry import _vjp_of
        # (a compiled training step linearized the op where it ran: _compile/pullbacks.py)
        pullback = None if traced.pullbacks is None or node.packed else \
            traced.pullbacks.get(node)
        with jax_config.eager_constant_folding(False):
            arrays = pullback(cts) if pullback is not None else \
                _vjp_of(node.op.bind(node.params), node.diff, node.arrays, cts)
    else:
        arrays = node.op.compiled_vjp(node.params, node.diff)(node.arrays, cts)
    it = iter(arrays)
    return [Tensor._wrap(_conj(next(it))) if d else None for d in node.diff]


def _conj(a):
    """PyTorch's gradients of complex tensors are the conjugates of what jax.vjp (a
    transpose, not an adjoint) returns; conjugating on both sides of every vjp gives
    PyTorch's convention, and does nothing to real arrays."""
    return jnp.conj(a) if jnp.iscomplexobj(a) else a


# -- accumulation into .grad --------------------------------------------------------------
_new_object = object.__new__


def _has_leaf_hooks(acc):
    return bool(acc.variable._hooks or acc._pre_hooks or acc._hooks)


def leaf_hooks(leaf, g):
    """The tensor hooks of a leaf, which also run when autograd.grad captures its grad."""
    return _tensor_hooks(leaf._hooks, g) if leaf._hooks else g


def _replace_value(grad, array):
    """An existing .grad takes a new value in place (the same tensor object, as PyTorch's
    accumulation keeps it)."""
    grad._storage.array = array
    grad._storage.generation += 1
    grad._version_counter.value += 1


def _accumulate(leaf, g, create_graph, already_summed=False):
    """AccumulateGrad as PyTorch orders it: the leaf's tensor hooks, the node's prehooks,
    .grad += g (same object unless create_graph), post-accumulate hooks (under no_grad,
    returning None), then the node's post hooks (no grad_inputs)."""
    if write_scope.writable is not None:        # inside torchlike.compile's trace
        from .._compile.effects import check_writable
        check_writable(leaf._storage, "accumulates .grad of")
    g = leaf_hooks(leaf, g)
    acc = leaf._accumulator
    acc = None if acc is None else acc()       # (a weak reference: graph.accumulator_of)
    if acc is not None and acc._pre_hooks:
        g = _node_pre_hooks(acc, [g])[0]
    if already_summed and leaf._grad is None:
        leaf._grad = _in_leaf_layout(leaf, g)
    elif already_summed:
        _replace_value(leaf._grad, g._data())
    else:
        _store_grad(leaf, g, create_graph)
    if leaf._post_acc_hooks:
        with no_grad():
            for hook in list(leaf._post_acc_hooks.values()):
                hook(leaf)                   # (what it returns is ignored, as in PyTorch)
    if acc is not None and acc._hooks:
        for hook in list(acc._hooks.values()):
            hook((), (g,))


def _store_grad(t, g, create_graph):
    from .._tensor import Tensor
    if g.dtype is not t.dtype:
        g = g.to(t.dtype)
    if t._grad is None and create_graph and g.requires_grad:
        # PyTorch stores a copy that keeps the graph: CopyBackwards for a leaf's .grad,
        # CloneBackward0 for a retained non-leaf's
        t._grad = _graph_copy(g, leaf=t.grad_fn is None)
    elif t._grad is None:
        t._grad = g if create_graph else _in_leaf_layout(t, Tensor._wrap(g._data(), t.device))
    elif create_graph:
        t._grad = t._grad + g
    else:
        with no_grad():
            t._grad._write((t._grad._data() + g._data()).astype(t._grad.dtype.np))


def _graph_copy(g, leaf):
    from .._ops.dispatch import apply
    from .._ops.ternary import _copy_op
    if leaf:
        return apply(_copy_op, (g.detach(), g), (), "torch::autograd::CopyBackwards")
    return g.clone()


def _in_leaf_layout(t, g):
    """A new .grad takes its (non-overlapping, dense) tensor's strides, as PyTorch's
    AccumulateGrad makes it: the .grad of a transposed leaf is transposed too."""
    stride = t._stride
    # (the contiguous strides first: known per shape, where is_contiguous loops over them)
    if stride is None or stride == contiguous_strides(t._shape) or t.is_contiguous():
        return g
    strides, shape = t.stride(), t.shape
    expected = 1                 # only a dense, non-overlapping layout is copied
    for d in sorted(range(t.ndim), key=lambda d: strides[d]):
        if shape[d] != 1 and strides[d] != expected:
            return g
        expected *= shape[d]
    return g._adopt_layout(strides)
