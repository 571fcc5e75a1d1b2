"""torchlike.utils._pytree against torch.utils._pytree: leaves, TreeSpec printing,
rebuilding, mapping, and registering a container."""
import collections

import pytest

import torchlike
import torchlike.utils._pytree as ours

pytest.importorskip("torch")
import torch.utils._pytree as theirs  # noqa: E402

NT = collections.namedtuple("NT", "a b")
TREES = [1, None, [1, None, {"b": 2, "a": 3}], (1, (2, 3)), {"x": [1, 2], "y": {"z": None}},
         collections.OrderedDict([("q", 1), ("p", 2)]), NT(1, [2, 3]),
         collections.deque([1, 2], maxlen=3), collections.defaultdict(list, {"k": 1}),
         [], {}, ()]


@pytest.mark.parametrize("tree", TREES, ids=[repr(t)[:30] for t in TREES])
def test_flatten_and_rebuild_as_torch(tree):
    (leaves, spec), (t_leaves, t_spec) = ours.tree_flatten(tree), theirs.tree_flatten(tree)
    assert leaves == t_leaves
    assert repr(spec) == repr(t_spec)
    assert (spec.num_leaves, spec.num_nodes) == (t_spec.num_leaves, t_spec.num_nodes)
    rebuilt = ours.tree_unflatten(leaves, spec)
    assert rebuilt == tree and type(rebuilt) is type(tree)
    tag = lambda x: (x, "m")      # noqa: E731
    assert ours.tree_map(tag, tree) == theirs.tree_map(tag, tree)


def test_mapping_and_predicates_as_torch():
    for lib in (ours, theirs):
        assert lib.tree_map(lambda a, b: a + b, [1, {"k": 2}], [10, {"k": 20}]) == [11, {"k": 22}]
    tree = [1, "s", 2.5, (3,)]
    assert ours.tree_map_only(int, lambda x: x * 10, tree) == \
        theirs.tree_map_only(int, lambda x: x * 10, tree)
    for name, pred, tree in [("tree_all", lambda x: x > 0, [1, 2, (3,)]),
                             ("tree_any", lambda x: x is None, [1, None])]:
        assert getattr(ours, name)(pred, tree) == getattr(theirs, name)(pred, tree)
    assert ours.tree_all_only(int, lambda x: x > 0, [1, "s", -1.0]) == \
        theirs.tree_all_only(int, lambda x: x > 0, [1, "s", -1.0])
    pairs = lambda x: isinstance(x, list) and len(x) == 2      # noqa: E731
    assert ours.tree_leaves([1, [2, 3]], is_leaf=pairs) == theirs.tree_leaves([1, [2, 3]],
                                                                              is_leaf=pairs)
    assert ours.tree_structure([1, 2]) == ours.tree_structure([3, 4])
    assert ours.tree_structure([1, 2]) != ours.tree_structure((3, 4))
    x = torchlike.ones(2)
    doubled = ours.tree_map(lambda t: t * 2, {"w": x, "b": [x]})
    assert list(doubled) == ["w", "b"] and doubled["b"][0].tolist() == [2.0, 2.0]
    for lib in (ours, theirs):
        with pytest.raises(ValueError):
            lib.tree_unflatten([1, 2, 3], lib.tree_structure([1, 2]))


def test_registered_container():
    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y
    for lib in (ours, theirs):
        lib.register_pytree_node(Point, lambda p: ([p.x, p.y], None), lambda v, c: Point(*v))
    leaves, spec = ours.tree_flatten([Point(1, [2])])
    assert leaves == [1, 2] and repr(spec) == repr(theirs.tree_structure([Point(1, [2])]))
    assert ours.tree_unflatten([5, 6], spec)[0].y == [6]
    with pytest.raises(ValueError):
        ours.register_pytree_node(Point, None, None)
