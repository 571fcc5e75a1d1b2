"""A rank that raises or dies: the other ranks fail with a clear error within the timeout
instead of hanging, and the launcher names the failed rank and stops the others.

Three 2-rank jobs run at once, started without the launcher so that the surviving rank's
own exit is what is checked (the launcher would stop it first): in one, rank 1 raises
before its first collective; in the others, rank 1 is killed (SIGKILL) in the middle of
DDP training (averaging after backward, or inside the fused backward).
The launcher's side is checked with shell workers, which need no JAX.

Run as a script (`python tests/test_distributed_failures.py raise|kill|kill_fused`), this file is the
worker.
"""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT_SECONDS = 5        # init_process_group(timeout=...) in the workers
# start-up (imports, joining) takes a few seconds; then the survivor must stop within
# about the timeout: 60 s is far below a hang (the default timeout is 30 minutes)
BOUND_SECONDS = 60


def worker_main(mode):
    import datetime
    import torchlike as torch
    import torchlike.distributed as dist
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=TIMEOUT_SECONDS))
    rank = dist.get_rank()
    if mode == "raise":
        if rank == 1:
            raise ValueError("rank 1 failed on purpose")
        dist.all_reduce(torch.ones(2))      # rank 0 waits here for the failed rank
    else:
        # "kill": DDP's buckets average (the CPU default); "kill_fused": the all-reduce
        # inside the fused backward (the GPU default), forced on
        torch.nn.parallel._fused_allreduce.ENABLED = mode == "kill_fused"
        torch.manual_seed(0)
        model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 1))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for step in range(1000):
            if step == 3 and rank == 1:
                os.kill(os.getpid(), signal.SIGKILL)
            opt.zero_grad()
            model(torch.ones(8, 4)).sum().backward()
            opt.step()
    print(f"rank {rank} was not stopped", flush=True)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_job(mode):
    env = dict(os.environ, PYTHONPATH=ROOT, JAX_PLATFORMS="cpu", WORLD_SIZE="2",
               MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()))
    return [subprocess.Popen([sys.executable, "-u", os.path.abspath(__file__), mode],
                             env=dict(env, RANK=str(rank)), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
            for rank in range(2)]


@pytest.fixture(scope="module")
def jobs():
    """{mode: [(returncode, output, seconds) per rank]}, both jobs run side by side."""
    start = time.monotonic()
    running = {mode: _start_job(mode) for mode in ("raise", "kill", "kill_fused")}
    found = {}
    for mode, procs in running.items():
        found[mode] = []
        for proc in procs:
            try:
                output, _ = proc.communicate(timeout=BOUND_SECONDS * 2)
            except subprocess.TimeoutExpired:
                proc.kill()
                output, _ = proc.communicate()
            found[mode].append((proc.returncode, output, time.monotonic() - start))
    return found


def test_a_rank_that_raises_stops_the_others(jobs):
    (code0, out0, seconds0), (code1, out1, _) = jobs["raise"]
    assert code1 == 1 and "ValueError: rank 1 failed on purpose" in out1, out1[-2000:]
    # rank 0 waits for a rank that never joins it (in JAX's start of its CPU client, at
    # the first array): JAX's coordination service notices the missed heartbeats within
    # the timeout and ends rank 0 with its own message; faulthandler shows where rank 0's
    # Python code was
    assert code0 != 0, out0[-2000:]
    assert "another task died" in out0, out0[-3000:]
    assert "Fatal Python error: Aborted" in out0 and "in worker_main" in out0, out0[-3000:]
    assert "was not stopped" not in out0
    assert seconds0 < BOUND_SECONDS, seconds0


@pytest.mark.parametrize("mode, where", [
    ("kill", "all_reduce failed on rank 0"),
    ("kill_fused", "DDP's gradient all-reduce (in the fused backward) failed on rank 0")])
def test_a_killed_rank_stops_the_others(jobs, mode, where):
    (code0, out0, seconds0), (code1, _, _) = jobs[mode]
    assert code1 == -signal.SIGKILL
    # rank 0 is in DDP's gradient all-reduce when its peer's connection drops
    assert code0 == 1, out0[-3000:]
    assert f"DistBackendError: torchlike.distributed: {where}" in out0, out0[-3000:]
    assert "another rank stopped, failed or cannot be reached" in out0, out0[-3000:]
    assert seconds0 < BOUND_SECONDS, seconds0


def test_launcher_names_a_killed_rank_and_stops_the_others(tmp_path):
    # rank 1 kills itself, rank 0 would sleep for a minute: the launcher must end it
    script = tmp_path / "worker.sh"
    script.write_text('#!/bin/sh\nif [ "$RANK" = 1 ]; then kill -9 $$; fi\nsleep 60\n')
    script.chmod(0o755)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "torchlike.distributed.run", "--no_python",
                           "--nproc_per_node", "2", str(script)],
                          env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True, text=True,
                          timeout=50)
    assert proc.returncode == 1
    assert "worker failed: rank 1 (local_rank 1" in proc.stderr, proc.stderr
    assert "was killed by signal 9 (SIGKILL)" in proc.stderr, proc.stderr
    assert time.monotonic() - start < 30


if __name__ == "__main__":
    worker_main(sys.argv[1])
