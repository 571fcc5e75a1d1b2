"""A plain backward's walk, remembered: a training loop backwards a graph of the same
structure every step, so the second time a structure is met its walk (engine._plain_walk)
is kept as a plan, and the next graphs are checked against the plan instead of walked
from scratch. The check visits the nodes in the plan's order (no stack, no visited set, no
program or key to build and hash: the plan holds the structure the fused cache's keys
name) and gathers the same arguments the walk would; any difference (an op, a wiring, a
leaf, a shared constant, a hook, a freed or modified saved tensor) makes it give up
before any side effect, and the walk runs as before.
"""
import weakref

from .._caches import LRU
from .._device import scalar_arg
from .._lazy import Deferred
from .graph import AccumulateGrad

# root (op, params) -> _Plans; a structure repeats with its root, so one probe finds it
# (read with peek: a hit costs no Python call and does not reorder, so past 256 roots
# the oldest entry goes, and a structure still in use makes its plan again)
_plans = LRU(256)
PLANS_PER_ROOT = 3           # structures remembered per root signature (tried in turn)
MISSES_TO_FORGET = 4         # graphs in a row that match none of them: forget them all


class _Stats:
    """Counters that tests read."""
    planned = 0               # graphs walked by a plan
    plans_made = 0


stats = _Stats()


class _Structure:
    """A backward program's structure: (program, root_refs, slot_target, n_targets,
    regions). The fused cache's keys hold one, hashed and compared by identity, so a key
    costs nothing to build or look up; `structure_of` makes one per distinct structure."""
    __slots__ = ("program", "root_refs", "slot_target", "n_targets", "regions", "near_roots",
                 "siblings", "__weakref__")

    def __init__(self, program, root_refs, slot_target, n_targets, regions):
        self.program, self.root_refs, self.slot_target = program, root_refs, slot_target
        self.n_targets, self.regions = n_targets, regions
        self.near_roots = None      # engine._held_near_roots' places to look at, once made
        self.siblings = None        # ... and engine._held_siblings'


# (program, root_refs, slot_target, n_targets, regions) -> its _Structure, while anything
# holds it (the bounded caches whose keys or plans name it): a structure that plans keep
# using is found again by a later walk, so its compiled program is too
_structures = weakref.WeakValueDictionary()


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
    """What a repeated walk needs, per node (inputs first): its class, op, params, diff
    and stale flags (diff has one per edge), and its edges by what they lead to, each group
    checked by a loop of its own. The check visits the nodes outputs first and each one's
    edges in order, so where it meets a node or a leaf for the first time is known here:
    there it takes what the edge leads to (`places`: edge, position of the node,
    output_nr; `firsts`: edge, diff slot, leaf index), elsewhere it compares (`links`,
    `reads`, alike); `ends` (edge, type of what it leads to: None or another leaf) and
    `consts` (edge, constant slot)."""
    __slots__ = ("structure", "nodes", "root", "n_diff", "n_const", "n_leaves", "numbers",
                 "leaf_ids")

    def __init__(self, order, position, leaves, program, structure, n_const):
        self.structure = structure
        self.root = structure.root_refs[0]
        self.n_diff = len(structure.slot_target)
        self.n_leaves = len(leaves)
        self.n_const = n_const
        # per constant slot, the last Python number met there: (number, device, what
        # scalar_arg made of it), so that the same number is not converted again
        self.numbers = [None] * n_const
        self.leaf_ids = None        # ids of the distinct leaves the last check met (_check)
        slot_leaf = structure.slot_target
        placed, read = {self.root[0]}, set()      # met so far, in the check's order
        nodes = [None] * len(order)
        for k in range(len(order) - 1, -1, -1):
            node, refs = order[k], program[k][2]
            places, links, firsts, reads, ends, consts = [], [], [], [], [], []
            for j, ((nxt, nr), ref) in enumerate(zip(node.edges, refs)):
                kind = ref[0]
                if kind == 1:
                    leaf = slot_leaf[ref[1]]
                    (reads if leaf in read else firsts).append((j, ref[1], leaf))
                    read.add(leaf)
                    continue
                where = position.get(nxt)
                if where is not None:
                    (links if where in placed else places).append((j, where, nr))
                    placed.add(where)
                else:
                    ends.append((j, type(nxt)))        # (None's type, or AccumulateGrad)
                if kind != 0:
                    consts.append((j, ref[-1]))
            stale = None if node.stale is None else frozenset(node.stale)
            nodes[k] = (type(node), node.op, node.params, stale, len(node.edges), tuple(places),
                        tuple(links), tuple(firsts), tuple(reads), tuple(ends), tuple(consts))
        self.nodes = tuple(nodes)


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
            stats.planned += 1
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
    stats.plans_made += 1
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
    token = object()
    for k in range(n - 1, -1, -1):            # outputs first: a node is placed by its users
        node = nodes[k]
        cls, op, params, stale, n_edges, places, links, firsts, reads, ends, consts = plan_nodes[k]
        if (type(node) is not cls or node.op is not op or node.params != params
                or node.stale != stale or node.freed or node.packed
                or node._pre_hooks or node._hooks or node.tensor_hooks or node.retained
                or node.remat is not None or node.seen is token):
            return None
        node.seen = token
        for entry in node.saved:
            if entry[1].value != entry[2]:
                return None
        edges, arrays = node.edges, node.arrays
        if len(edges) != n_edges:
            return None
        for j, where, want_nr in places:
            nxt, nr = edges[j]
            if nr != want_nr:
                return None
            nodes[where] = nxt
        for j, where, want_nr in links:
            nxt, nr = edges[j]
            if nxt is not nodes[where] or nr != want_nr:
                return None
        for j, slot, leaf in firsts:
            nxt = edges[j][0]
            if type(nxt) is not AccumulateGrad:
                return None
            leaves[leaf] = nxt
            array = arrays[j]
            if type(array) is Deferred and array._value is not None:
                array = array._value
            diff_vals[slot] = array
        for j, slot, leaf in reads:
            if edges[j][0] is not leaves[leaf]:
                return None
            array = arrays[j]
            if type(array) is Deferred and array._value is not None:
                array = array._value
            diff_vals[slot] = array
        for j, kind in ends:
            if type(edges[j][0]) is not kind:
                return None
        if consts:
            numbers = False
            for j, slot in consts:
                array = arrays[j]
                if type(array) is Deferred and array._value is not None:
                    array = array._value
                if not hasattr(array, "shape"):
                    numbers = True
                    last = plan.numbers[slot]
                    if last is not None and last[0] is array and last[1] is device:
                        array = last[2]
                    else:
                        converted = scalar_arg(array, device)
                        plan.numbers[slot] = (array, device, converted)
                        array = converted
                placed = const_vals[slot]
                if placed is None:
                    const_vals[slot] = array
                elif placed is not array:
                    return None
            if numbers:
                continue
        node._public_edges = edges       # (as _plain_walk does)
    # distinct where the walk found them distinct (a node met twice, under two positions
    # of the plan, was refused by its token above): leaves, and constant objects. The
    # leaves are the same objects step after step, and a set of them is allocated where a
    # step's heap is slowest: ids equal to those of the last check's distinct leaves are
    # distinct too (ids of objects alive together). (Not a token on the leaves, as for the
    # nodes: a leaf may be in the graphs of two threads at once.)
    ids = tuple(map(id, leaves))
    if ids != plan.leaf_ids:
        if len(set(leaves)) != plan.n_leaves:
            return None
        plan.leaf_ids = ids
    if len(set(map(id, const_vals))) != plan.n_const:
        return None
    return nodes, plan.structure, diff_vals, const_vals, leaves
