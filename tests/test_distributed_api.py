"""torchlike.distributed in one process (world_size 1), its launcher's environment,
DistributedSampler's index order, and DataParallel over 8 simulated devices; every
expected value comes from real torch in the same test."""
import datetime
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import torchlike
import torchlike.distributed as tdist
import torchlike.utils.data.distributed as tl_data_dist

torch = pytest.importorskip("torch")
import torch.distributed as dist  # noqa: E402
import torch.utils.data.distributed as torch_data_dist  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _error(fn):
    try:
        fn()
    except Exception as e:      # noqa: BLE001  (the class and message are compared)
        return type(e).__name__, str(e).splitlines()[0]
    return None


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def env_cleared(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_before_init_errors_match_torch(env_cleared):
    assert tdist.is_available() and not tdist.is_initialized()
    calls = [lambda m: m.get_rank(), lambda m: m.get_world_size(), lambda m: m.barrier(),
             lambda m: m.new_group([0]), lambda m: m.destroy_process_group()]
    for call in calls:
        assert _error(lambda: call(tdist)) == _error(lambda: call(dist))
    assert _error(lambda: tdist.all_reduce(torchlike.ones(2))) == \
        _error(lambda: dist.all_reduce(torch.ones(2)))


@pytest.mark.parametrize("env, kwargs", [
    ({}, {}),
    ({"RANK": "0"}, {}),
    ({"RANK": "0", "WORLD_SIZE": "1"}, {}),
    ({"RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1"}, {}),
    ({}, {"init_method": "tcp://127.0.0.1:1"}),
    ({}, {"init_method": "tcp://127.0.0.1:1", "rank": 0}),
    ({}, {"init_method": "nope://x", "rank": 0, "world_size": 1}),
])
def test_rendezvous_errors_match_torch(env_cleared, env, kwargs):
    for name, value in env.items():
        env_cleared.setenv(name, value)
    expected = _error(lambda: dist.init_process_group("gloo", **kwargs))
    assert expected is not None
    assert _error(lambda: tdist.init_process_group("gloo", **kwargs)) == expected
    assert not tdist.is_initialized()


# torch warns that it cannot tell an unknown backend's devices before it refuses it
@pytest.mark.filterwarnings("ignore:Device capability of foo unknown")
def test_unknown_backend_matches_torch():
    expected = _error(lambda: dist.init_process_group("foo", init_method="tcp://127.0.0.1:1",
                                                      rank=0, world_size=1))
    assert _error(lambda: tdist.init_process_group(
        "foo", init_method="tcp://127.0.0.1:1", rank=0, world_size=1)) == expected
    assert tdist.Backend("GLOO") == dist.Backend("GLOO") == "gloo"


def test_reduce_op_names_match_torch():
    for name in ("SUM", "AVG", "PRODUCT", "MIN", "MAX"):
        ours, theirs = getattr(tdist.ReduceOp, name), getattr(dist.ReduceOp, name)
        assert str(ours) == str(theirs)
        assert ours.value == theirs.value


def test_deprecated_collective_names_warn_as_torch(env_cleared):
    tdist.init_process_group("gloo", init_method="tcp://127.0.0.1:1", rank=0, world_size=1)
    try:
        t = torchlike.arange(3.0)
        with pytest.warns(FutureWarning) as seen:
            tdist.all_gather_into_tensor(torchlike.zeros(3), t)
            tdist.reduce_scatter_tensor(torchlike.zeros(3), t)
        out = torchlike.zeros(3)
        tdist.all_gather_single(out, t)
        tdist.reduce_scatter_single(out, out)
    finally:
        tdist.destroy_process_group()
    expected = [f"`torch.distributed.{old}` is deprecated. Please use `torch.distributed.{new}` instead."
                for old, new in [("all_gather_into_tensor", "all_gather_single"),
                                 ("reduce_scatter_tensor", "reduce_scatter_single")]]
    assert [str(w.message) for w in seen] == expected
    assert all(w.filename == __file__ for w in seen)     # pointed at the caller, as torch's
    np.testing.assert_array_equal(out.numpy(), [0, 1, 2])


# the oracle's torch 2.13 warns about its own deprecated collective names
@pytest.mark.filterwarnings("ignore:`torch.distributed.all_gather_into_tensor` is deprecated")
def test_world_of_one_matches_torch(env_cleared):
    """Every collective with world_size 1 (no coordinator: no jax.distributed needed),
    against real torch's gloo group of one process; init and destroy twice."""
    port = _free_port()
    env_cleared.setenv("MASTER_ADDR", "127.0.0.1")
    env_cleared.setenv("MASTER_PORT", str(port))
    env_cleared.setenv("RANK", "0")
    env_cleared.setenv("WORLD_SIZE", "1")
    results = {}
    for lib, d in ((torch, dist), (torchlike, tdist)):
        for _ in range(2):
            d.init_process_group("gloo", timeout=datetime.timedelta(seconds=20))
            out = results.setdefault(lib.__name__, {})
            out["rank"], out["size"] = d.get_rank(), d.get_world_size()
            out["backend"] = d.get_backend()
            out["twice"] = _error(lambda: d.init_process_group("gloo"))
            t = lib.arange(6.0).reshape(2, 3)
            d.all_reduce(t, op=d.ReduceOp.AVG)
            out["avg"] = t.numpy().copy()
            work = d.all_reduce(t, async_op=True)
            out["wait"] = work.wait()
            out["is_completed"] = work.is_completed()
            gathered = [lib.zeros(2, 3)]
            d.all_gather(gathered, t)
            out["all_gather"] = gathered[0].numpy().copy()
            piece = lib.zeros(3)
            d.scatter(piece, [lib.ones(3)], src=0)
            out["scatter"] = piece.numpy().copy()
            out["scatter_missing"] = _error(lambda: d.scatter(piece, None, src=0))
            out["gather_missing"] = _error(lambda: d.gather(piece, None, dst=0))
            out["send_self"] = _error(lambda: d.send(piece, dst=0))
            out["list_size"] = _error(lambda: d.all_gather([lib.zeros(2, 3)] * 2, t))
            out["list_dtype"] = _error(lambda: d.all_gather([lib.zeros(2, 3).double()], t))
            out["list_shape"] = _error(lambda: d.all_gather([lib.zeros(3)], t))
            out["into_size"] = _error(lambda: d.all_gather_into_tensor(lib.zeros(7), t))
            out["band_float"] = _error(lambda: d.all_reduce(t, op=d.ReduceOp.BAND))
            out["not_tensor"] = _error(lambda: d.all_reduce([1, 2]))
            objects = [None]
            d.all_gather_object(objects, {"a": [1, 2]})
            out["objects"] = objects
            out["barrier"] = d.barrier()
            group = d.new_group([0])
            out["group_rank"] = d.get_rank(group)
            out["bad_group"] = _error(lambda: d.new_group([1]))
            d.destroy_process_group()
            out["after"] = d.is_initialized()
    ours, theirs = results["torchlike"], results["torch"]
    assert ours.keys() == theirs.keys()
    for key in theirs:
        if isinstance(theirs[key], np.ndarray):
            np.testing.assert_array_equal(ours[key], theirs[key])
        else:
            assert ours[key] == theirs[key], key


def test_launcher_environment_matches_torchrun(tmp_path):
    """The variables torchrun gives each worker, from real torchrun and from ours."""
    names = ["RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK",
             "GROUP_WORLD_SIZE", "ROLE_RANK", "ROLE_WORLD_SIZE", "ROLE_NAME", "MASTER_ADDR",
             "MASTER_PORT", "TORCHELASTIC_RESTART_COUNT", "TORCHELASTIC_MAX_RESTARTS",
             "TORCHELASTIC_RUN_ID", "OMP_NUM_THREADS", "TORCH_NCCL_ASYNC_ERROR_HANDLING"]
    script = tmp_path / "env.py"
    script.write_text(
        "import json, os, sys\n"
        f"seen = {{k: v for k, v in os.environ.items() if k in {names!r}}}\n"
        "open(os.path.join(sys.argv[1], seen['RANK'] + '.json'), 'w').write(json.dumps(seen))\n")
    port = str(_free_port())
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("OMP_NUM_THREADS", None)

    def launch(module):
        outdir = tmp_path / module
        outdir.mkdir()
        subprocess.run([sys.executable, "-m", module, "--nproc_per_node", "2",
                        "--master_port", port, str(script), str(outdir)], env=env, timeout=120,
                       capture_output=True, check=True)
        return [json.loads((outdir / f"{r}.json").read_text()) for r in range(2)]

    assert launch("torchlike.distributed.run") == launch("torch.distributed.run")


@pytest.mark.parametrize("n", [0, 1, 7, 10, 11])
@pytest.mark.parametrize("replicas", [1, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_order_matches_torch(n, replicas, drop_last):
    for rank in range(replicas):
        ours = tl_data_dist.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                               drop_last=drop_last)
        theirs = torch_data_dist.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                                    drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs)


def test_distributed_sampler_shuffle():
    """torchlike's generator is not torch's, so the shuffled order is checked for what
    PyTorch guarantees: the same permutation on every rank for one seed and epoch (the
    ranks' shares are then disjoint and cover the dataset), a new one per epoch, and
    torch's padding rule applied to it."""
    n, replicas = 10, 4

    def shares(epoch, seed=0):
        samplers = [tl_data_dist.DistributedSampler(range(n), replicas, r, seed=seed)
                    for r in range(replicas)]
        for s in samplers:
            s.set_epoch(epoch)
        return [list(s) for s in samplers]

    first = shares(0)
    assert first == shares(0)
    flat = [i for share in first for i in share]
    assert sorted(set(flat)) == list(range(n)) and len(flat) == 12   # 2 padded
    assert shares(1) != first and shares(0, seed=5) != first
    # the order is randperm(n) under manual_seed(seed + epoch), dealt out round robin
    g = torchlike.Generator()
    g.manual_seed(3)
    perm = torchlike.randperm(n, generator=g).tolist()
    perm += perm[:2]
    assert shares(3) == [perm[r::replicas] for r in range(replicas)]


def test_distributed_sampler_errors_match_torch():
    for rank in (-1, 4):
        assert _error(lambda: tl_data_dist.DistributedSampler(range(5), 4, rank)) == \
            _error(lambda: torch_data_dist.DistributedSampler(range(5), 4, rank))


def test_ddp_needs_parameters_and_a_group(env_cleared):
    frozen = torchlike.nn.Linear(2, 2).requires_grad_(False)
    theirs = _error(lambda: torch.nn.parallel.DistributedDataParallel(
        torch.nn.Linear(2, 2).requires_grad_(False)))
    assert _error(lambda: torchlike.nn.parallel.DistributedDataParallel(frozen)) == theirs


_DATA_PARALLEL = """
import numpy as np, jax
import torchlike as torch
assert len(jax.local_devices()) == 8
rng = np.random.default_rng(0)
x = torch.tensor(rng.normal(size=(16, 4)).astype(np.float32))
y = torch.tensor(rng.normal(size=(16, 2)).astype(np.float32))

def model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))

results = []
for wrap in (lambda m: m, torch.nn.DataParallel):
    net = model()
    wrapped = wrap(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.mse_loss(wrapped(x), y).backward()
        opt.step()
    results.append([p.detach().numpy() for p in net.parameters()])
sharding = wrapped(x).jax().sharding
assert len(sharding.device_set) == 8 and not sharding.is_fully_replicated, sharding
for a, b in zip(*results):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
print("ok", wrapped.device_ids)
"""


def test_data_parallel_splits_the_batch_over_8_devices():
    """One process, 8 simulated CPU devices: DataParallel shards the batch over them
    (one XLA program), and training equals training on one device."""
    env = dict(os.environ, PYTHONPATH=ROOT, JAX_PLATFORMS="cpu",
               XLA_FLAGS="--xla_force_host_platform_device_count=8")
    out = subprocess.run([sys.executable, "-c", _DATA_PARALLEL], env=env, timeout=120,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "ok [0, 1, 2, 3, 4, 5, 6, 7]"


def test_data_parallel_on_one_device_calls_the_module():
    # PyTorch without GPUs: device_ids is [] and the module runs as it is
    net = torchlike.nn.Linear(3, 2)
    dp = torchlike.nn.DataParallel(net)
    assert dp.device_ids == torch.nn.DataParallel(torch.nn.Linear(3, 2)).device_ids == []
    x = torchlike.ones(4, 3)
    np.testing.assert_array_equal(dp(x).detach().numpy(), net(x).detach().numpy())
    assert list(dp.state_dict()) == list(torch.nn.DataParallel(torch.nn.Linear(3, 2)).state_dict())


def test_fsdp_state_dict_round_trip_in_a_world_of_one(env_cleared):
    """FULL_STATE_DICT names and values are the wrapped module's own; loading another
    model's full state dict makes the wrapper compute what that model computes (expected
    values from real torch running the same weights)."""
    tdist.init_process_group("gloo", init_method="tcp://127.0.0.1:1", rank=0, world_size=1)
    try:
        from torchlike.distributed.fsdp import FullyShardedDataParallel as FSDP

        def net(lib):
            lib.manual_seed(0)
            return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Linear(4, 2))

        inner = net(torchlike)
        before = {k: v.numpy().copy() for k, v in inner.state_dict().items()}
        wrapped = FSDP(inner)
        after = wrapped.state_dict()
        assert list(after) == list(before)
        for k in before:
            np.testing.assert_array_equal(after[k].numpy(), before[k])
        assert [n for n, _ in wrapped.named_parameters()] == ["_flat_param_0"]

        reference = net(torch)
        with torch.no_grad():
            for p in reference.parameters():
                p.mul_(-2.0)
        wrapped.load_state_dict({k: torchlike.tensor(v.numpy())
                                 for k, v in reference.state_dict().items()})
        reference.eval()
        wrapped.eval()
        x = np.arange(15, dtype=np.float32).reshape(5, 3) / 7
        np.testing.assert_allclose(wrapped(torchlike.tensor(x)).detach().numpy(),
                                   reference(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
    finally:
        tdist.destroy_process_group()


def test_environment_queries_match_torch(env_cleared):
    # availability: torch's CPU wheel has gloo only, as torchlike without a GPU
    for name in ("is_gloo_available", "is_nccl_available", "is_mpi_available", "is_ucc_available"):
        assert getattr(tdist, name)() == getattr(dist, name)(), name
    for backend in ("gloo", "nccl", "mpi", "foo"):
        assert tdist.is_backend_available(backend) == dist.is_backend_available(backend), backend
    assert tdist.default_pg_timeout == dist.default_pg_timeout
    assert tdist.is_xccl_available() == dist.is_xccl_available()
    for device in ("cpu", "cuda", "xpu", "meta", torch.device("cpu")):
        assert _error(lambda: tdist.get_default_backend_for_device(device)) == \
            _error(lambda: dist.get_default_backend_for_device(device))
        if device != "meta":
            assert tdist.get_default_backend_for_device(device) == \
                dist.get_default_backend_for_device(device)
    for op in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"):
        assert tdist.supports_complex(getattr(tdist.ReduceOp, op)) == \
            dist.supports_complex(getattr(dist.ReduceOp, op)), op
    # launch queries read torchrun's variables
    for env in ({}, {"LOCAL_RANK": "3", "TORCHELASTIC_RUN_ID": "job"}):
        for name, value in env.items():
            env_cleared.setenv(name, value)
        assert tdist.is_torchelastic_launched() == dist.is_torchelastic_launched()
        assert tdist.get_node_local_rank(fallback_rank=5) == dist.get_node_local_rank(fallback_rank=5)
        assert _error(tdist.get_node_local_rank) == _error(dist.get_node_local_rank)
    env_cleared.delenv("LOCAL_RANK")


def test_debug_level_and_errors_match_torch():
    assert [(m.name, int(m)) for m in tdist.DebugLevel] == \
        [(name, int(m)) for name, m in dist.DebugLevel.__members__.items()]
    assert str(tdist.DebugLevel.INFO) == str(dist.DebugLevel.INFO)
    previous = dist.get_debug_level()
    assert tdist.get_debug_level().name == previous.name
    try:
        for level in (tdist.DebugLevel.DETAIL, tdist.DebugLevel.OFF):
            tdist.set_debug_level(level)
            dist.set_debug_level(getattr(dist.DebugLevel, level.name))
            assert tdist.get_debug_level().name == dist.get_debug_level().name
    finally:
        dist.set_debug_level(previous)
    for name in ("DistError", "DistBackendError", "DistNetworkError", "DistStoreError"):
        ours, theirs = getattr(tdist, name), getattr(dist, name)
        assert [c.__name__ for c in ours.__mro__[:-3]] == [c.__name__ for c in theirs.__mro__[:-3]]


def test_option_records_match_torch():
    for name in ("AllreduceOptions", "AllreduceCoalescedOptions", "ReduceOptions",
                 "ReduceScatterOptions", "BroadcastOptions", "GatherOptions", "ScatterOptions",
                 "AllToAllOptions", "BarrierOptions"):
        ours, theirs = getattr(tdist, name)(), getattr(dist, name)()
        fields = sorted(a for a in dir(theirs) if not a.startswith("_"))
        assert sorted(a for a in vars(ours)) == fields, name
        for field in fields:
            value = getattr(theirs, field)
            if field == "reduceOp":      # torch's ReduceOp() record is SUM
                assert getattr(ours, field) is tdist.ReduceOp.SUM and value == dist.ReduceOp.SUM
            else:
                assert getattr(ours, field) == value, (name, field)


def test_list_and_mesh_errors_match_torch(env_cleared):
    """A world of one: the argument checks of the new list, object, batch, subgroup and
    mesh functions, against torch's."""
    port = _free_port()
    results = {}
    for lib, d in ((torch, dist), (torchlike, tdist)):
        d.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
        try:
            found = results[lib.__name__] = {}
            one = lib.ones(2)
            found["p2p_op"] = _error(lambda: d.P2POp(d.all_reduce, one, 0))
            found["batch_empty"] = _error(lambda: d.batch_isend_irecv([]))
            found["batch_not_ops"] = _error(lambda: d.batch_isend_irecv([1]))
            found["scatter_objects"] = _error(lambda: d.scatter_object_list([], [1], src=0))
            found["gather_objects"] = _error(lambda: d.gather_object(1, None, dst=0))
            found["send_self"] = _error(lambda: d.send_object_list([1], dst=0))
            found["reduce_scatter_list"] = _error(lambda: d.reduce_scatter(one, [one, one]))
            found["all_to_all_sizes"] = _error(lambda: d.all_to_all([one], [lib.ones(3)]))
            found["subgroups"] = [_error(lambda: d.new_subgroups(s)) for s in (None, 0, 2)]
            mine, everyone = d.new_subgroups(1)
            found["subgroup"] = (d.get_rank(mine), len(everyone))
            found["mesh_too_big"] = _error(lambda: d.init_device_mesh("cpu", (2,)))
            mesh = d.init_device_mesh("cpu", (1, 1), mesh_dim_names=("dp", "tp"))
            found["mesh"] = (mesh.mesh.tolist(), mesh.ndim, mesh.shape, mesh.size(),
                             mesh.get_coordinate(), mesh.get_local_rank("tp"),
                             mesh["tp"].mesh_dim_names, mesh.mesh.dtype.__repr__())
            found["mesh_name"] = _error(lambda: mesh.get_group("pp"))
            objects = [None]
            d.gather_object({"a": 1}, objects, dst=0)
            found["gather_object"] = objects
            d.scatter_object_list(objects, [("b", 2)], src=0)
            found["scatter_object"] = objects
        finally:
            d.destroy_process_group()
    assert results["torchlike"] == results["torch"]


def test_hash_and_prefix_stores_match_torch():
    results = {}
    for d in (dist, tdist):
        s = d.HashStore()
        out = results.setdefault(d.__name__, [])
        out.append(s.timeout)
        s.set("a", "1")
        s.set("b", b"xy")
        out += [s.get("a"), s.get("b"), s.add("c", 3), s.add("c", 2), s.get("c"), s.num_keys(),
                s.check(["a", "c"]), s.check(["zz"]), isinstance(s, d.Store)]
        out += [s.compare_set("a", "1", "9"), s.compare_set("a", "0", "7"), s.get("a"),
                s.compare_set("new", "", "n"), s.compare_set("new2", "x", "n")]
        out += [s.delete_key("a"), s.delete_key("a"), s.num_keys()]
        s.set_timeout(datetime.timedelta(seconds=0.05))
        out += [s.timeout, _error(lambda: s.get("missing")), _error(lambda: s.wait(["missing"])),
                _error(lambda: s.add("b", 1))]
        p = d.PrefixStore("pre", s)
        p.set("k", "v")
        out += [s.get("pre/k"), p.get("k"), p.num_keys(), p.underlying_store is s, p.check(["k"])]
    assert results["torchlike.distributed"] == results["torch.distributed"]
