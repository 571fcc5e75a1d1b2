"""Optimizers, checkpoints and loaders on an accelerator: the same results as on the CPU.

These run only where torchlike sees a GPU (torchlike.cuda.is_available())."""
import io

import numpy as np
import pytest

import torchlike
import torchlike.optim
import torchlike.utils.data as data
from torchlike.nn import Parameter
from torchlike.serialization import load, save

from helpers import normwise_tol

pytestmark = pytest.mark.skipif(not torchlike.cuda.is_available(), reason="needs a GPU")

CASES = [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
         ("Adam", dict(lr=0.01, amsgrad=True)), ("AdamW", dict(lr=0.01)),
         ("RMSprop", dict(centered=True, momentum=0.5)), ("Adagrad", dict(lr_decay=0.01)),
         ("Adamax", dict()), ("NAdam", dict(weight_decay=0.1)), ("RAdam", dict(lr=0.01))]


def _train(name, kw, device, dtype, steps=20):
    rng = np.random.default_rng(0)
    shapes = [(33, 17), (17,)]
    params = [Parameter(torchlike.tensor(rng.standard_normal(s), dtype=dtype, device=device))
              for s in shapes]
    opt = getattr(torchlike.optim, name)(params, **kw)
    sched = torchlike.optim.lr_scheduler.ExponentialLR(opt, 0.95)
    for _ in range(steps):
        for p in params:
            p.grad = torchlike.tensor(rng.standard_normal(tuple(p.shape)), dtype=dtype,
                                      device=device)
        opt.step()
        sched.step()
    return params, opt


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kw", CASES, ids=[c[0] for c in CASES])
def test_gpu_update_matches_cpu(name, kw, dtype):
    dtype = getattr(torchlike, dtype)
    gpu, opt = _train(name, kw, "cuda", dtype)
    cpu, _ = _train(name, kw, "cpu", dtype)
    for a, b in zip(gpu, cpu):
        assert a.device.type == "cuda" and a.is_leaf
        b = np.asarray(b.detach())
        # XLA's GPU and CPU backends fuse and contract differently: 16 roundings per
        # update on the longest path, over 20 steps, normwise (see test_optim's
        # ROUNDINGS_PER_STEP); float64 keeps its earlier 1e-12, above the count's 7e-14
        tol = normwise_tol(str(dtype), 16 * 20, b)
        if dtype is torchlike.float64:
            tol["rtol"] = max(tol["rtol"], 1e-12)
        np.testing.assert_allclose(np.asarray(a.detach().cpu()), b, **tol)
    for state in opt.state.values():
        for value in state.values():
            assert value.device.type == "cuda"


def test_checkpoint_round_trip_on_gpu():
    params, opt = _train("Adam", dict(lr=0.01), "cuda", torchlike.float32, steps=3)
    buf = io.BytesIO()
    save({"params": params, "optim": opt.state_dict()}, buf)
    buf.seek(0)
    on_gpu = load(buf)
    assert on_gpu["params"][0].device.type == "cuda"
    buf.seek(0)
    on_cpu = load(buf, map_location="cpu")
    assert on_cpu["optim"]["state"][0]["exp_avg"].device.type == "cpu"
    # a checkpoint stores the values themselves: bit for bit
    np.testing.assert_array_equal(np.asarray(on_cpu["params"][0].detach()),
                                  np.asarray(params[0].detach().cpu()))
    fresh = [Parameter(p.detach().cuda()) for p in on_cpu["params"]]
    opt2 = torchlike.optim.Adam(fresh)
    opt2.load_state_dict(on_cpu["optim"])          # CPU state moves to the parameters' GPU
    assert opt2.state[fresh[0]]["exp_avg"].device.type == "cuda"
    for p in fresh:
        p.grad = torchlike.ones(p.shape, device="cuda")
    opt2.step()


def test_loader_batches_gpu_tensors():
    ds = data.TensorDataset(torchlike.arange(10.0, device="cuda"), torchlike.arange(10))
    batches = list(data.DataLoader(ds, batch_size=4))
    assert batches[0][0].device.type == "cuda" and batches[0][0].tolist() == [0, 1, 2, 3]
