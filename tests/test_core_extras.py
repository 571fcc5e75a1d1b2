"""Small tensor-core items checked against torch: torch.seed, cuda seeding calls on a
machine without a GPU, and how a Parameter prints."""
import pytest

import torchlike
from helpers import run_both


def test_seed_returns_a_new_int_seed_and_reseeds():
    s = torchlike.seed()
    assert isinstance(s, int) and torchlike.initial_seed() == s
    a = torchlike.rand(3).tolist()
    torchlike.manual_seed(s)
    assert torchlike.rand(3).tolist() == a


def test_cuda_seeding_and_counts_without_gpu(oracle):
    if torchlike.cuda.is_available():
        pytest.skip("this compares the no-GPU behaviour")   # the GPU machine has one
    for lib in (oracle, torchlike):
        lib.cuda.manual_seed_all(3)
        lib.cuda.manual_seed(3)
    assert torchlike.cuda.device_count() == oracle.cuda.device_count() == 0
    assert torchlike.cuda.is_available() == oracle.cuda.is_available()


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Parameter(lib.ones(2)),
    lambda lib: lib.nn.Parameter(lib.arange(6.0).view(2, 3) / 7),
    lambda lib: lib.nn.Parameter(lib.ones(2, dtype=lib.float64), requires_grad=False),
    lambda lib: lib.nn.Parameter(lib.zeros(0)),
])
def test_parameter_prints_like_torch(make):
    ours, theirs = run_both(lambda lib: (repr(make(lib)), str(make(lib))))
    assert ours == theirs


def test_indexing_at_new_positions_reuses_compiled_code():
    """x[i] and x[i:i + n] take the position as a traced argument: reading rows one by
    one (a data loader, a time loop) compiles once per shape, not once per position."""
    from torchlike._ops.registry import OPS
    x = torchlike.arange(40.0).view(10, 4)
    assert x[0].tolist() == [0.0, 1.0, 2.0, 3.0] and x[1:3].tolist()[1] == [8.0, 9.0, 10.0, 11.0]
    select, slice_ = OPS["select"], OPS["slice"]
    before = [(len(op._compiled), sum(f._cache_size() for f in op._compiled.values()))
              for op in (select, slice_)]
    rows = [x[i].tolist() for i in range(2, 8)] + [x[i:i + 2].tolist() for i in range(2, 8)]
    assert rows[0] == [8.0, 9.0, 10.0, 11.0] and rows[-1][1] == [32.0, 33.0, 34.0, 35.0]
    after = [(len(op._compiled), sum(f._cache_size() for f in op._compiled.values()))
             for op in (select, slice_)]
    assert after == before


@pytest.mark.skipif(not torchlike.cuda.is_available(), reason="needs a GPU")
def test_to_cuda_moves_the_values_and_a_moved_model_trains():
    """.to('cuda') puts the array itself on the GPU (not just the label), so a model
    moved with .to() trains on data moved the same way, and .cpu() brings it back."""
    x = torchlike.arange(6.0).view(2, 3)
    g = x.to("cuda")
    assert {d.platform for d in g._data().devices()} == {"gpu"}
    assert {d.platform for d in g.cpu()._data().devices()} == {"cpu"}
    model = torchlike.nn.Sequential(torchlike.nn.Linear(3, 4), torchlike.nn.ReLU(),
                                    torchlike.nn.Linear(4, 2)).to("cuda")
    assert all({d.platform for d in p._data().devices()} == {"gpu"} for p in model.parameters())
    loss = model(g).sum()
    loss.backward()
    assert all(p.grad.device.type == "cuda" for p in model.parameters())


def test_linalg_is_reachable_after_a_plain_import():
    """As `torch.linalg` is after `import torch` (a fresh process: other tests import it)."""
    import subprocess
    import sys
    code = "import torchlike; print(float(torchlike.linalg.norm(torchlike.ones(4))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "2.0"
