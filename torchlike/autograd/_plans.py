"""A plain backward's walk, remembered: a training loop backwards a graph of the same
structure every step, so the second time a structure is met its walk (engine._plain_walk)
is kept as a plan, and the next graphs are checked against the plan instead of walked
from scratch. The check visits the nodes in the plan's order (no stack, no sets, no
program or key to build and hash: the plan holds the structure the fused cache's keys
name) and gathers the same arguments the walk would; any difference (an op, a wiring, a
leaf, a shared constant, a hook, a freed or modified saved tensor) makes it give up
before any side effect, and the walk runs as before.
"""
from .._caches import LRU
from .._device import scalar_arg
from .._lazy import Deferred
from .graph import AccumulateGrad

# Where an edge of a planned node leads (an int >= 0 is the position of a node)
_NONE, _LEAF, _ACC = -1, -2, -3      # no node; a leaf read for its gradient; another leaf

# root (op, params) -> _Plans; a structure repeats with its root, so one probe finds it
_plans = LRU(256)
PLANS_PER_ROOT = 3           # structures remembered per root signature (tried in turn)
MISSES_TO_FORGET = 4         # graphs in a row that match none of them: forget them all


class _Structure:
    """A backward program's structure: (program, root_refs, slot_target, n_targets,
    regions). The fused cache's keys hold one, hashed and compared by identity, so a key
    costs nothing to build or look up; `structure_of` makes one per distinct structure."""
    __slots__ = ("program", "root_refs", "slot_target", "n_targets", "regions")

    def __init__(self, program, root_refs, slot_target, n_targets, regions):
        self.program, self.root_refs, self.slot_target = program, root_refs, slot_target
        self.n_targets, self.regions = n_targets, regions


_structures = LRU(1024)      # (program, root_refs, slot_target, n_targets, regions) -> one


def structure_of(program, root_refs, slot_target, n_targets, regions):
    """(the one _Structure of these parts, whether it was met before)."""
    parts = (tuple(program), tuple(root_refs), tuple(slot_target), n_targets, regions)
    s = _structures.get(parts)
    if s is not None:
        return s, True
    s = _structures[parts] = _Structure(*parts)
    return s, False


class _Plans:
    __slots__ = ("plans", "misses")

    def __init__(self):
        self.plans, self.misses = [], 0


class Plan:
    """What a repeated walk needs: per node (inputs first) its class, op, params, diff and
    stale flags and, per edge, (where it leads, output_nr, argument kind, slot, leaf)."""
    __slots__ = ("structure", "nodes", "root", "n_diff", "n_const", "n_leaves")

    def __init__(self, order, position, leaves, program, structure):
        self.structure = structure
        self.root = structure.root_refs[0]
        self.n_diff = len(structure.slot_target)
        self.n_leaves = len(leaves)
        slot_leaf = structure.slot_target
        n_const = 0
        nodes = []
        for node, (_, _, refs) in zip(order, program):
            specs = []
            for (nxt, nr), ref in zip(node.edges, refs):
                kind, slot, leaf = ref[0], -1, -1
                if kind == 1:
                    where, slot = _LEAF, ref[1]
                    leaf = slot_leaf[slot]
                else:
                    where = position.get(nxt)
                    if where is None:
                        where = _NONE if nxt is None else _ACC
                    if kind != 0:
                        slot = ref[-1]
                        n_const = max(n_const, slot + 1)
                specs.append((where, nr, kind, slot, leaf))
            stale = None if node.stale is None else frozenset(node.stale)
            nodes.append((type(node), node.op, node.params, node.diff, stale, tuple(specs)))
        self.nodes = tuple(nodes)
        self.n_const = n_const


def root_signature(roots):
    """The key plans are filed under: the single root node's op and params (None for
    several roots or a root that is not a node: those always walk)."""
    if len(roots) != 1:
        return None
    node = roots[0][0]
    if node is None or type(node) is AccumulateGrad or node.op is None:
        return None
    return (node.op, node.params)


def walk_as_planned(signature, roots, device):
    """(order, structure, diff_vals, const_vals, leaf list) of the graph at `roots` by one
    of the plans remembered for its root, or None (no plan, or the graph differs)."""
    entry = _plans.peek(signature)
    if entry is None:
        return None
    root, nr = roots[0]
    for plan in entry.plans:
        got = _check(plan, root, nr, device)
        if got is not None:
            entry.misses = 0
            if plan is not entry.plans[0]:
                entry.plans.remove(plan)
                entry.plans.insert(0, plan)
            return got
    entry.misses += 1
    if entry.misses >= MISSES_TO_FORGET:       # (a graph that changes every step)
        del _plans[signature]
    return None


def remember(signature, plan):
    entry = _plans.peek(signature)
    if entry is None:
        entry = _plans[signature] = _Plans()
    entry.plans.insert(0, plan)
    del entry.plans[PLANS_PER_ROOT:]


def _check(plan, root, root_nr, device):
    """The walk of `plan` over the graph at (root, root_nr), or None where it differs or
    needs the general path (engine._plain_walk's conditions)."""
    plan_nodes = plan.nodes
    n = len(plan_nodes)
    position, nr = plan.root
    if nr != root_nr:
        return None
    nodes = [None] * n
    nodes[position] = root
    diff_vals = [None] * plan.n_diff
    const_vals = [None] * plan.n_const
    leaves = [None] * plan.n_leaves
    for k in range(n - 1, -1, -1):            # outputs first: a node is placed by its users
        node = nodes[k]
        cls, op, params, diff, stale, specs = plan_nodes[k]
        if (type(node) is not cls or node.op is not op or node.params != params
                or node.diff != diff or node.stale != stale or node.freed or node.packed
                or node._pre_hooks or node._hooks or node.tensor_hooks or node.retained):
            return None
        for i, counter, version, desc in node.saved:
            if counter.value != version:
                return None
        numbers = False
        for (nxt, nr), array, (where, want_nr, kind, slot, leaf) in zip(
                node.edges, node.arrays, specs):
            if where >= 0:
                placed = nodes[where]
                if placed is None:
                    nodes[where] = nxt
                elif placed is not nxt:
                    return None
                if nr != want_nr:
                    return None
                if kind == 0:
                    continue
            elif where == _NONE:
                if nxt is not None:
                    return None
            elif type(nxt) is not AccumulateGrad:
                return None
            if type(array) is Deferred and array._value is not None:
                array = array._value
            if kind == 1:
                diff_vals[slot] = array
                placed = leaves[leaf]
                if placed is None:
                    leaves[leaf] = nxt
                elif placed is not nxt:
                    return None
                continue
            if not hasattr(array, "shape"):
                numbers = True
                array = scalar_arg(array, device)
            placed = const_vals[slot]
            if placed is None:
                const_vals[slot] = array
            elif placed is not array:
                return None
        if not numbers:
            node._public_edges = node.edges      # (as _plain_walk does)
    # distinct where the walk found them distinct: nodes, leaves, constant objects
    if (len(set(nodes)) != n or len(set(leaves)) != plan.n_leaves
            or len(set(map(id, const_vals))) != plan.n_const):
        return None
    return nodes, plan.structure, diff_vals, const_vals, leaves
