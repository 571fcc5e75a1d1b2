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
