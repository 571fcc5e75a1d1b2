"""Recording a training step's forward (issue 8, the eager engine's host cost): pending
views made without an intermediate tensor, `x[i]` / `x[:, i]` sent straight to select,
joins and views of pending values skipping the host-copy checks, zero_grad's direct
clear. Behaviour is compared with torch; the fast paths are checked by counting what
they no longer make or call."""
import numpy as np
import pytest
import torch

import torchlike
from torchlike import _host_ops, _tensor
from torchlike._ops import indexing

from helpers import assert_raises_same, assert_same, call_counter, check


def _counting_fresh_tensors(monkeypatch):
    """A list that receives every tensor with a storage of its own made while the test
    runs (Tensor._init_from_array: a Storage and a version counter each)."""
    return call_counter(monkeypatch, _tensor.Tensor, "_init_from_array")


_VIEWS = {
    "transpose": lambda t: t.transpose(0, 1),
    "permute": lambda t: t.permute(2, 0, 1),
    "view": lambda t: t.view(6, 4),
    "select": lambda t: t[:, -1],
    "select_two": lambda t: t[1, :, 2],
    "unsqueeze": lambda t: t.unsqueeze(1),
}


@pytest.mark.parametrize("name", sorted(_VIEWS))
def test_a_recorded_view_makes_no_tensor_of_its_own(monkeypatch, name):
    # A view aliases its base's storage: the pending value goes straight into it. (apply
    # wrapped it in a tensor first, with a Storage and a version counter, that the view
    # then dropped: an allocation and a free per view of every step.)
    x = torchlike.ones(2, 3, 4, requires_grad=True) * 1.5
    made = _counting_fresh_tensors(monkeypatch)
    _VIEWS[name](x)
    assert made == []
    x * 2                      # (the count sees an op's output)
    assert made == [1]


@pytest.mark.parametrize("name", sorted(_VIEWS))
@pytest.mark.parametrize("grad", [True, False], ids=["grad", "no_grad"])
def test_pending_views_match_torch(name, grad):
    # values, grad_fn, the view relation, and gradients through the view
    def run(lib):
        x = lib.arange(24.0).reshape(2, 3, 4).requires_grad_()
        with lib.set_grad_enabled(grad):
            base = x * 1.5
            v = _VIEWS[name](base)
        assert v._base is base
        out = [v, v.is_contiguous(), v.stride(), v.storage_offset()]
        if grad:
            (v * v).sum().backward()
            out.append(x.grad)
        return out
    check(run)


def test_writes_through_a_pending_view_and_its_versions_match_torch():
    # the view shares its base's version counter: a write through either is seen by the
    # other, and backward names a saved view modified in place as torch does
    def write(lib):
        x = lib.arange(6.0).reshape(2, 3).requires_grad_()
        base = x * 1
        v = base.transpose(0, 1)
        v[0, 1] = 10.0
        return [base, v, v._version, base._version, v.grad_fn.name()]
    check(write)

    def modified(lib):
        x = lib.arange(6.0).reshape(2, 3).requires_grad_()
        base = x * 1
        v = base.transpose(0, 1)
        y = v.sin()                    # saves v
        base.mul_(2)
        y.sum().backward()
    assert_raises_same(modified)


_INDICES = [(slice(None), -1), 1, -2, (1, slice(None), 2), (slice(None), slice(None), 3),
            (0, 1, 2), (slice(None), 2, -1)]


@pytest.mark.parametrize("index", _INDICES, ids=[str(i) for i in _INDICES])
def test_int_and_whole_slice_indices_are_selects(monkeypatch, index):
    # They skip the general index parse (an LSTM head's `out[:, -1]` at every step)
    def run(lib):
        x = lib.arange(24.0).reshape(2, 3, 4).requires_grad_()
        y = (x * 2)[index]
        y.sum().backward()
        return [y, x.grad]
    check(run)
    monkeypatch.setattr(indexing, "_normalize", None)     # (the general parse: unused)
    run(torchlike)


@pytest.mark.parametrize("index", [(slice(None), 3), 2, -3, (0, 0, 4), (1, slice(None), -5),
                                   (0, 0, 0, 0)], ids=str)
def test_out_of_range_and_surplus_indices_raise_torchs_errors(index):
    assert_raises_same(lambda lib: lib.ones(2, 3, 4)[index])


def test_other_indices_still_parse():
    for index in [(1, Ellipsis), (None, 1), (slice(0, 1), 1), (np.int64(1),), (True,),
                  (slice(None),), slice(None)]:
        check(lambda lib: lib.arange(24.0).reshape(2, 3, 4)[index])


def test_joins_and_views_of_pending_values_skip_the_host_checks(monkeypatch):
    # a join or a view of a pending value cannot be made by numpy: no checks run for it
    calls = []
    real = _host_ops._numpy_may_read
    monkeypatch.setattr(_host_ops, "_numpy_may_read", lambda ts: calls.append(1) or real(ts))
    a = torchlike.ones(2, 3) * 2                  # pending, records nothing
    torchlike.stack([a, a])
    torchlike.cat([a, a])
    a[0]
    a.transpose(0, 1)
    assert calls == []
    # a small computed tensor still joins on the host (an exact copy, nothing compiled)
    b = torchlike.tensor([[1.0, 2.0, 3.0]])
    assert_same(torchlike.cat([b, b]), torch.cat([torch.tensor([[1.0, 2.0, 3.0]])] * 2))
    assert calls


def test_zero_grad_clears_grads_and_respects_a_grad_property_of_a_subclass():
    class Noted(torchlike.nn.Parameter):
        assigned = []

        @property
        def grad(self):
            return self._grad

        @grad.setter
        def grad(self, value):
            Noted.assigned.append(value)
            self._grad = value

    plain = torchlike.nn.Parameter(torchlike.ones(2))
    noted = Noted(torchlike.ones(2))
    opt = torchlike.optim.SGD([plain, noted], lr=0.1)
    (plain * noted).sum().backward()
    assert plain.grad is not None and noted.grad is not None
    opt.zero_grad()
    assert plain.grad is None and noted.grad is None
    assert Noted.assigned == [None]         # through the subclass's own setter
    (plain * noted).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert_same(plain.grad, torch.zeros(2))


def test_small_filled_factories_match_torch():
    for make in (lambda lib: lib.ones(3, 3, requires_grad=True),
                 lambda lib: lib.zeros(2, dtype=lib.float64, requires_grad=True),
                 lambda lib: lib.ones(3, 3, dtype=lib.int64, requires_grad=True),
                 lambda lib: lib.full((2, 2), 7)):
        check(make)
    # tensors of one cached constant are separate tensors
    a, b = torchlike.ones(3, 3), torchlike.ones(3, 3)
    a.add_(1)
    assert_same(b, torch.ones(3, 3))
