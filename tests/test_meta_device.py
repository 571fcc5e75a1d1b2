"""The meta device and `with torch.device(...)`, against real torch: printing, shapes and
dtypes of ops, PyTorch's errors for reading values, modules built on meta, to_empty,
the model-ensembling recipe's meta base model, and backward through meta tensors."""
import copy

import numpy as np
import pytest

import torchlike
from helpers import float_tol, to_numpy

torch = pytest.importorskip("torch")

LIBS = pytest.mark.parametrize("lib", [torchlike, torch], ids=["torchlike", "torch"])


def both(make):
    """make(lib) for each library; the results' reprs, or each one's exception."""
    out = []
    for lib in (torchlike, torch):
        try:
            out.append(repr(make(lib)))
        except Exception as error:      # noqa: BLE001 (compared below)
            out.append((type(error).__name__, str(error)))
    return out


CASES = {
    "ones": lambda t: t.ones(2, 3, device="meta"),
    "float64": lambda t: t.zeros(2, dtype=t.float64, device="meta"),
    "0-dim": lambda t: t.tensor(3.0, device="meta"),
    "int64 arange": lambda t: t.arange(5, device="meta"),
    "requires_grad": lambda t: t.ones(2, device="meta", requires_grad=True),
    "ops": lambda t: (t.ones(2, 3, device="meta") * 2 + 1).sum(0),
    "recorded op": lambda t: t.ones(2, device="meta", requires_grad=True) * 2,
    "matmul": lambda t: t.ones(2, 3, device="meta") @ t.ones(3, 4, device="meta"),
    "views": lambda t: t.ones(2, 3, device="meta").view(3, 2)[1:].t(),
    "with 0-dim cpu tensor": lambda t: t.ones(2, device="meta") + t.tensor(2.0),
    "in place": lambda t: t.ones(2, 3, device="meta").add_(1).mul_(t.ones(3, device="meta")),
    "written view": lambda t: _written_view(t),
    "random": lambda t: t.randn(2, device="meta").uniform_(-1, 1),
    "likes": lambda t: (t.empty_like(t.ones(2, device="meta")),
                        t.zeros_like(t.ones(2, device="meta", dtype=t.int32))),
    "cat": lambda t: t.cat([t.ones(2, 3, device="meta")] * 2),
    "index tensors": lambda t: (t.empty(5, 3, device="meta")[t.tensor([0, 2], device="meta")],
                                t.empty(5, 3, device="meta")[t.tensor([0, 2])],
                                t.empty(5, 3, device="meta")[:, t.tensor([[0, 1]],
                                                                       device="meta")]),
    "index put": lambda t: t.empty(5, 3, device="meta").index_put_(
        (t.tensor([0, 2], device="meta"),), t.ones(3, device="meta")),
    "to meta": lambda t: t.arange(3.0).to("meta"),
    "metadata": lambda t: (lambda m: (m.device, m.is_meta, m.shape, m.stride(), m.numel(),
                                      m.data_ptr(), m.nbytes))(t.ones(2, 3, device="meta")),
    "clone": lambda t: t.ones(2, 3, device="meta").clone(),
    "format": lambda t: f"{t.ones(2, device='meta')}",
    "parameter": lambda t: t.nn.Parameter(t.ones(2, device="meta")),
    "item": lambda t: t.ones((), device="meta").item(),
    "float": lambda t: float(t.ones((), device="meta")),
    "bool": lambda t: bool(t.ones((), device="meta")),
    "sum item": lambda t: t.ones(3, device="meta").sum().item(),
    "tolist": lambda t: t.ones(2, device="meta").tolist(),
    "numpy": lambda t: t.ones(2, device="meta").numpy(),
    "to cpu": lambda t: t.ones(2, device="meta").to("cpu"),
    "cpu()": lambda t: t.ones(2, device="meta").cpu(),
    "meta + cpu": lambda t: t.ones(2, device="meta") + t.ones(2),
    "cpu + meta": lambda t: t.ones(2) + t.ones(2, device="meta"),
    "cat cpu and meta": lambda t: t.cat([t.ones(2), t.ones(2, device="meta")]),
    "module to cpu": lambda t: t.nn.Linear(2, 3, device="meta").to("cpu"),
    "linear forward": lambda t: t.nn.Linear(3, 2, device="meta")(t.ones(4, 3, device="meta")),
    "deepcopy": lambda t: copy.deepcopy(t.nn.Linear(3, 2, device="meta")).weight,
    "backward": lambda t: _meta_grad(t),
    "autograd.grad": lambda t: _meta_grads(t, allow_unused=True),
    "autograd.grad unused": lambda t: _meta_grads(t, allow_unused=False),
}


def _meta_grads(t, allow_unused):
    x, unused = (t.ones(2, 3, device="meta", requires_grad=True) for _ in range(2))
    y = x * 2
    return t.autograd.grad(y.sum(), [x, y, unused], allow_unused=allow_unused)


def _written_view(t):
    m = t.ones(2, 3, device="meta")
    m[0] = 5.0
    m[:, 1].fill_(2)
    return m


def _meta_grad(t):
    x = t.ones(2, 3, device="meta", requires_grad=True)
    (x.exp() * 2).sum().backward()
    return x.grad


@pytest.mark.parametrize("name", CASES)
def test_meta_tensors_as_torch(name):
    got, want = both(CASES[name])
    assert got == want


def test_device_context_sets_the_default_device_of_factories():
    for lib in (torchlike, torch):
        with lib.device("meta"):
            inner = lib.ones(2)
            with lib.device("cpu"):
                nested = lib.ones(2)
            layer = lib.nn.Linear(4, 2)
            again = lib.tensor([1.0, 2.0])
        after = lib.ones(2)
        assert (str(inner.device), str(nested.device), str(layer.weight.device),
                str(again.device), str(after.device)) == ("meta", "cpu", "meta", "meta", "cpu")


@LIBS
def test_module_built_on_meta_then_given_memory(lib):
    """The big-model pattern: build on meta (no values drawn), to_empty, then
    reset_parameters or a loaded state dict."""
    with lib.device("meta"):
        layer = lib.nn.Linear(4, 3)
    assert layer.weight.is_meta
    layer.to_empty(device="cpu")
    assert (layer.weight.device.type, tuple(layer.weight.shape), layer.weight.requires_grad,
            type(layer.weight).__name__) == ("cpu", (3, 4), True, "Parameter")
    layer.reset_parameters()
    bound = 1 / 4 ** 0.5
    assert float(layer.weight.abs().max()) <= bound
    source = lib.nn.Linear(4, 3)
    assigned = lib.nn.Linear(4, 3, device="meta")
    assigned.load_state_dict(source.state_dict(), assign=True)
    assert not assigned.weight.is_meta and assigned.weight.requires_grad
    assert lib.equal(assigned(lib.ones(2, 4)), source(lib.ones(2, 4)))


def test_meta_initialization_draws_no_random_numbers():
    """PyTorch's initializers do nothing on meta tensors; so the random stream after
    building a meta model is the one before it (here: the same draw)."""
    torchlike.manual_seed(0)
    plain = torchlike.rand(3)
    torchlike.manual_seed(0)
    with torchlike.device("meta"):
        torchlike.nn.Sequential(torchlike.nn.Linear(8, 8), torchlike.nn.Conv2d(3, 4, 3),
                                torchlike.nn.Embedding(10, 4))
    assert torchlike.equal(torchlike.rand(3), plain)


def test_ensembling_recipe_with_a_meta_base_model():
    """The torch.func model-ensembling tutorial: stack_module_state, a base model moved to
    meta, and vmap over functional_call; the same weights as torch give its values."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 6)).astype(np.float32)
    results = []
    for lib in (torchlike, torch):
        models = [lib.nn.Sequential(lib.nn.Linear(6, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
                  for _ in range(3)]
        for m, seed in zip(models, range(3)):
            weights = np.random.default_rng(seed)
            for p in m.parameters():
                p.data = lib.tensor(weights.standard_normal(tuple(p.shape)).astype(np.float32))
        params, buffers = lib.func.stack_module_state(models)
        base = copy.deepcopy(models[0]).to("meta")

        def fmodel(params, buffers, x):
            return lib.func.functional_call(base, (params, buffers), (x,))
        out = lib.vmap(fmodel, in_dims=(0, 0, None))(params, buffers, lib.tensor(x))
        assert base[0].weight.is_meta
        results.append(out)
    got, want = results
    assert tuple(got.shape) == tuple(want.shape) == (3, 5, 2)
    np.testing.assert_allclose(to_numpy(got), want.detach().numpy(),
                               **float_tol("float32", steps=12, scale=8.0))
