"""Devices against real torch (a CPU-only build): torch.device parsing, printing and
equality, tensor.device, device= on factories, moves, cuda availability and the errors
for asking for an absent accelerator.

These tests must also pass on a machine with a GPU: assertions that need "no CUDA" are
skipped when torchlike.cuda.is_available() (torch here is CPU-only, so the oracle then
disagrees by design).
"""
import pytest

import torchlike
from helpers import assert_raises_same, assert_same, run_both, torch

pytestmark = pytest.mark.usefixtures("oracle")

HAS_CUDA = torchlike.cuda.is_available()
needs_no_cuda = pytest.mark.skipif(
    HAS_CUDA, reason="compares with CPU-only torch's errors; this machine has a GPU")


@pytest.mark.parametrize("args", [("cpu",), ("cuda",), ("cuda:1",), ("cuda", 1), ("cpu", 0),
                                  ("cpu:0",), ("meta",), ("mps",), ("cuda:0",)], ids=str)
def test_device_repr_str_attributes(args):
    ours, theirs = torchlike.device(*args), torch.device(*args)
    assert repr(ours) == repr(theirs)
    assert str(ours) == str(theirs)
    assert (ours.type, ours.index) == (theirs.type, theirs.index)


def test_device_keywords_and_copies():
    ours = torchlike.device(type="cuda", index=2)
    assert repr(ours) == repr(torch.device(type="cuda", index=2))
    assert torchlike.device(ours) == ours
    assert repr(torchlike.device(torchlike.device("cuda:1"))) == "device(type='cuda', index=1)"


def test_device_equality_and_hash():
    d = torchlike.device
    assert d("cpu") == d("cpu") and d("cuda:1") == d("cuda", 1)
    assert d("cuda") != d("cuda:0") and d("cpu") != d("cpu", 0)
    assert hash(d("cuda:1")) == hash(d("cuda", 1))
    assert len({d("cpu"), d("cpu"), d("cuda")}) == 2
    # like torch, a device never equals a string
    assert (d("cpu") == "cpu") == (torch.device("cpu") == "cpu") is False
    import pickle
    assert pickle.loads(pickle.dumps(d("cuda:3"))) == d("cuda:3")


def test_tpu_is_a_torchlike_device_type():
    """torchlike's own addition: 'tpu' means JAX's TPU platform (torch has no such type)."""
    dev = torchlike.device("tpu:0")
    assert repr(dev) == "device(type='tpu', index=0)" and str(dev) == "tpu:0"
    with pytest.raises(RuntimeError):
        torch.device("tpu")


@pytest.mark.parametrize("fn", [
    lambda lib: lib.device("cuda:x"),
    lambda lib: lib.device("cuda:-1"),
    lambda lib: lib.device("cuda", -1),
    lambda lib: lib.device("cuda:0", 1),
    lambda lib: lib.device("xyz"),
    lambda lib: lib.device("CPU"),
    lambda lib: lib.device(" cpu"),
    lambda lib: lib.device("cuda:01"),
    lambda lib: lib.device("cuda:1 "),
], ids=lambda f: None)
def test_device_parse_errors(fn):
    assert_raises_same(fn)


@needs_no_cuda
def test_device_from_index_needs_an_accelerator():
    assert_raises_same(lambda lib: lib.device(0))


def test_tensor_device_and_flags():
    def fn(lib):
        x = lib.zeros(2)
        return (str(x.device), repr(x.device), x.is_cuda, x.is_cpu, x.get_device(),
                x.device == lib.device("cpu"), x.device.type, x.device.index,
                lib.ones(2, device="cpu").device == x.device,
                lib.tensor([1.0], device=lib.device("cpu")).device.type)
    ours, theirs = run_both(fn)
    assert ours == theirs


@pytest.mark.parametrize("make", [
    lambda lib, d: lib.zeros(2, device=d),
    lambda lib, d: lib.ones((2, 2), device=d),
    lambda lib, d: lib.full((2,), 1.5, device=d),
    lambda lib, d: lib.arange(3, device=d),
    lambda lib, d: lib.tensor([1.0], device=d),
    lambda lib, d: lib.rand(2, device=d).zero_(),
    lambda lib, d: lib.randn(2, device=d).zero_(),
    lambda lib, d: lib.eye(2, device=d),
    lambda lib, d: lib.linspace(0, 1, 3, device=d),
    lambda lib, d: lib.empty(2, device=d).zero_(),
    lambda lib, d: lib.zeros_like(lib.ones(2), device=d),
], ids=lambda f: None)
@pytest.mark.parametrize("device", ["cpu", "cpu:0", "device"])
def test_factories_on_cpu(make, device):
    def fn(lib):
        d = lib.device("cpu") if device == "device" else device
        t = make(lib, d)
        return t, str(t.device)
    ours, theirs = run_both(fn)
    assert_same(ours[0], theirs[0])
    assert ours[1] == theirs[1]


def test_moves_to_cpu():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.to("cpu")
        z = x.cpu()
        w = x.to(lib.device("cpu"), lib.float64)
        return y is x, z is x, w, str(w.device)
    ours, theirs = run_both(fn)
    assert ours[:2] == theirs[:2] and ours[3] == theirs[3]
    assert_same(ours[2], theirs[2])


@needs_no_cuda
def test_cuda_queries_on_a_cpu_only_machine():
    assert torchlike.cuda.is_available() == torch.cuda.is_available() is False
    assert torchlike.cuda.device_count() == torch.cuda.device_count() == 0
    assert_raises_same(lambda lib: lib.cuda.current_device())
    assert_raises_same(lambda lib: lib.cuda.get_device_name())


@needs_no_cuda
@pytest.mark.parametrize("fn", [
    lambda lib: lib.zeros(1, device="cuda"),
    lambda lib: lib.ones(2, device="cuda:0"),
    lambda lib: lib.tensor([1.0], device="cuda"),
    lambda lib: lib.arange(3, device="cuda"),
    lambda lib: lib.randn(2, device="cuda"),
    lambda lib: lib.empty(2, device=lib.device("cuda")),
    lambda lib: lib.tensor([1.0]).to("cuda"),
    lambda lib: lib.tensor([1.0]).to(lib.device("cuda", 0)),
    lambda lib: lib.tensor([1.0]).to(device="cuda", dtype=lib.float64),
    lambda lib: lib.tensor([1.0]).cuda(),
    lambda lib: lib.tensor([1.0]).cuda(1),
    lambda lib: lib.tensor([1.0]).type("torch.cuda.FloatTensor"),
    lambda lib: lib.zeros_like(lib.ones(1), device="cuda"),
    lambda lib: lib.tensor([1.0]).to("mps"),
], ids=lambda f: None)
def test_asking_for_cuda_raises_like_cpu_only_torch(fn):
    assert_raises_same(fn)


@needs_no_cuda
def test_set_default_device():
    def fn(lib):
        lib.set_default_device("cuda")      # accepted; using it fails
        try:
            lib.zeros(1)
        finally:
            lib.set_default_device(None)
    assert_raises_same(fn)

    def cpu(lib):
        lib.set_default_device("cpu")
        try:
            return str(lib.get_default_device()), lib.zeros(2), str(lib.ones(1).device)
        finally:
            lib.set_default_device(None)
    ours, theirs = run_both(cpu)
    assert ours[0] == theirs[0] and ours[2] == theirs[2]
    assert_same(ours[1], theirs[1])
    assert str(torchlike.get_default_device()) == "cpu"


@pytest.mark.skipif(not HAS_CUDA, reason="needs a GPU")
def test_cuda_round_trip_on_gpu_machines():
    x = torchlike.tensor([1.0, 2.0]).cuda()
    assert x.is_cuda and str(x.device) == "cuda:0"
    y = (x * 2).cpu()
    assert y.device.type == "cpu" and y.tolist() == [2.0, 4.0]
    assert repr(x) == "tensor([1., 2.], device='cuda:0')"


@pytest.mark.skipif(not HAS_CUDA, reason="needs a GPU")
def test_arrays_on_the_default_gpu_stay_uncommitted():
    # jit compiles a program per pattern of committed arguments: moved, drawn and
    # sampled tensors on the default GPU must be uncommitted, as made ones are
    made = [torchlike.tensor([1.0, 2.0]).cuda(), torchlike.randn(3, device="cuda"),
            torchlike.randint(0, 5, (3,), device="cuda"),
            torchlike.multinomial(torchlike.ones(4, device="cuda"), 2),
            torchlike.zeros(2).to("cuda")]
    assert [t._data().committed for t in made] == [False] * len(made)


def test_placing_a_committed_array_uncommits_it_without_a_copy():
    import jax
    import numpy as np
    from torchlike import _device
    from torchlike._caches import compiles
    committed = jax.device_put(np.arange(6, dtype=np.float32), jax.devices()[0])
    placed = _device.place(committed, torchlike.device("cpu"))
    assert committed.committed and not placed.committed
    assert placed.unsafe_buffer_pointer() == committed.unsafe_buffer_pointer()
    # a program meets the placed array and a made one alike: one compile, not two
    made = torchlike.arange(6, dtype=torchlike.float32)
    made.tolist()
    before = compiles.total
    for array in (made._data(), placed):
        assert (torchlike._jax_bridge.wrap(array) * 3 - 1).tolist() == \
            [3.0 * k - 1 for k in range(6)]
    assert compiles.total - before == 1
