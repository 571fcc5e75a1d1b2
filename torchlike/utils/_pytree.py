"""torch.utils._pytree: nested containers flattened to leaves and rebuilt, with PyTorch's
rules (which JAX's tree_util does not share): dicts keep their keys' insertion order,
None is a leaf, and a TreeSpec prints as PyTorch's. Libraries written for PyTorch
(and torchlike's users) import it by this name.
"""
import collections
import dataclasses

__all__ = ["TreeSpec", "LeafSpec", "register_pytree_node", "tree_flatten", "tree_unflatten",
           "tree_leaves", "tree_structure", "tree_iter", "tree_map", "tree_map_",
           "tree_map_only", "tree_map_only_", "tree_all", "tree_any", "tree_all_only",
           "tree_any_only", "tree_is_leaf", "is_namedtuple", "is_namedtuple_class",
           "is_namedtuple_instance", "SUPPORTED_NODES"]


@dataclasses.dataclass(frozen=True)
class NodeDef:
    """How one container type flattens: flatten(x) -> (children, context), and
    unflatten(children, context) -> x."""
    type: type
    flatten_fn: object
    unflatten_fn: object


SUPPORTED_NODES = {}


def register_pytree_node(cls, flatten_fn, unflatten_fn, *, serialized_type_name=None,
                         to_dumpable_context=None, from_dumpable_context=None,
                         flatten_with_keys_fn=None):
    """Make `cls` a container: flatten_fn(x) -> (children, context),
    unflatten_fn(children, context) -> x."""
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten_fn, unflatten_fn)


register_pytree_node(tuple, lambda t: (list(t), None), lambda v, c: tuple(v))
register_pytree_node(list, lambda t: (list(t), None), lambda v, c: list(v))
register_pytree_node(dict, lambda d: (list(d.values()), list(d.keys())),
                     lambda v, c: dict(zip(c, v)))
register_pytree_node(collections.OrderedDict,
                     lambda d: (list(d.values()), list(d.keys())),
                     lambda v, c: collections.OrderedDict(zip(c, v)))
register_pytree_node(collections.defaultdict,
                     lambda d: (list(d.values()), [d.default_factory, list(d.keys())]),
                     lambda v, c: collections.defaultdict(c[0], zip(c[1], v)))
register_pytree_node(collections.deque, lambda d: (list(d), d.maxlen),
                     lambda v, c: collections.deque(v, maxlen=c))


def is_namedtuple_class(cls):
    return isinstance(cls, type) and issubclass(cls, tuple) and \
        isinstance(getattr(cls, "_fields", None), tuple)


def is_namedtuple(obj):
    return is_namedtuple_class(obj if isinstance(obj, type) else type(obj))


def is_namedtuple_instance(obj):
    return is_namedtuple_class(type(obj))


# (PyTorch's node type for every named tuple is the `namedtuple` function; the context
# is the class)
_NAMEDTUPLE = NodeDef(collections.namedtuple, lambda t: (list(t), type(t)),
                      lambda v, c: c(*v))
SUPPORTED_NODES[collections.namedtuple] = _NAMEDTUPLE


def _node_of(tree):
    """The NodeDef that flattens `tree`, or None for a leaf."""
    node = SUPPORTED_NODES.get(type(tree))
    if node is None and is_namedtuple_instance(tree):
        return _NAMEDTUPLE
    return node


class TreeSpec:
    """The structure of a flattened tree: its container type, the context that rebuilds
    it (a dict's keys), and the spec of each child."""

    def __init__(self, type, context, children_specs):
        self.type, self.context, self.children_specs = type, context, list(children_specs)
        self.num_children = len(self.children_specs)
        self.num_leaves = sum(c.num_leaves for c in self.children_specs)
        self.num_nodes = 1 + sum(c.num_nodes for c in self.children_specs)

    def is_leaf(self):
        return False

    def __eq__(self, other):
        return isinstance(other, TreeSpec) and other.is_leaf() == self.is_leaf() and \
            (self.type, self.context, self.children_specs) == \
            (other.type, other.context, other.children_specs)

    def __hash__(self):
        return hash((self.type, repr(self.context), tuple(self.children_specs)))

    def __repr__(self, indent=0):
        children = ""
        if self.num_children:
            indent += 2
            children = self.children_specs[0].__repr__(indent)
            if self.num_children > 1:
                children += "," + ",".join("\n" + " " * indent + c.__repr__(indent)
                                           for c in self.children_specs[1:])
        return f"TreeSpec({self.type.__name__}, {self.context}, [{children}])"

    def flatten_up_to(self, tree):
        """The subtrees of `tree` where this spec has its leaves."""
        out = []
        _up_to(self, tree, out)
        return out

    def unflatten(self, leaves):
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} "
                             f"but the spec refers to a pytree that holds {self.num_leaves} "
                             f"items ({self}).")
        return _build(self, iter(leaves))


class LeafSpec(TreeSpec):
    def __init__(self):
        super().__init__(None, None, [])
        self.num_leaves, self.num_nodes = 1, 1

    def is_leaf(self):
        return True

    def __repr__(self, indent=0):
        return "*"


_LEAF = LeafSpec()


def tree_is_leaf(tree, is_leaf=None):
    return (is_leaf is not None and is_leaf(tree)) or _node_of(tree) is None


def tree_flatten(tree, is_leaf=None):
    """(leaves, TreeSpec) of `tree`: leaves in order, dicts in their keys' order."""
    leaves = []
    return leaves, _flatten(tree, is_leaf, leaves)


def _flatten(tree, is_leaf, leaves):
    if tree_is_leaf(tree, is_leaf):
        leaves.append(tree)
        return _LEAF
    node = _node_of(tree)
    children, context = node.flatten_fn(tree)
    return TreeSpec(node.type, context, [_flatten(c, is_leaf, leaves) for c in children])


def _build(spec, leaves):
    if spec.is_leaf():
        return next(leaves)
    children = [_build(c, leaves) for c in spec.children_specs]
    return SUPPORTED_NODES[spec.type].unflatten_fn(children, spec.context)


def _up_to(spec, tree, out):
    if spec.is_leaf():
        out.append(tree)
        return
    node = _node_of(tree)
    if node is None:
        raise ValueError(f"Expected a {spec.type.__name__} node, got {type(tree).__name__}")
    children, _ = node.flatten_fn(tree)
    if len(children) != spec.num_children:
        raise ValueError(f"Node arity mismatch; expected {spec.num_children}, but got "
                         f"{len(children)}.")
    for c, s in zip(children, spec.children_specs):
        _up_to(s, c, out)


def tree_unflatten(leaves, treespec):
    if not isinstance(treespec, TreeSpec):
        raise TypeError(f"tree_unflatten(leaves, treespec): Expected `treespec` to be "
                        f"instance of TreeSpec but got item of type {type(treespec)}.")
    return treespec.unflatten(leaves)


def tree_leaves(tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)[0]


def tree_iter(tree, is_leaf=None):
    return iter(tree_leaves(tree, is_leaf))


def tree_structure(tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func, tree, *rests, is_leaf=None):
    """func applied to each leaf of `tree` (and the matching subtrees of `rests`)."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [spec.flatten_up_to(r) for r in rests]
    return spec.unflatten(func(*xs) for xs in zip(leaves, *others))


def tree_map_(func, tree, *rests, is_leaf=None):
    """func called on each leaf, for its effect; returns `tree`."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [spec.flatten_up_to(r) for r in rests]
    for xs in zip(leaves, *others):
        func(*xs)
    return tree


def _only(types, func):
    return lambda x: func(x) if isinstance(x, types) else x


def tree_map_only(type_or_types, func, tree, is_leaf=None):
    """tree_map of func on the leaves of the given type(s); other leaves stay."""
    return tree_map(_only(type_or_types, func), tree, is_leaf=is_leaf)


def tree_map_only_(type_or_types, func, tree, is_leaf=None):
    return tree_map_(_only(type_or_types, func), tree, is_leaf=is_leaf)


def tree_all(pred, tree, is_leaf=None):
    return all(map(pred, tree_leaves(tree, is_leaf)))


def tree_any(pred, tree, is_leaf=None):
    return any(map(pred, tree_leaves(tree, is_leaf)))


def tree_all_only(type_or_types, pred, tree, is_leaf=None):
    return all(pred(x) for x in tree_leaves(tree, is_leaf) if isinstance(x, type_or_types))


def tree_any_only(type_or_types, pred, tree, is_leaf=None):
    return any(pred(x) for x in tree_leaves(tree, is_leaf) if isinstance(x, type_or_types))
