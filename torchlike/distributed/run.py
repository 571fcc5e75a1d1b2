"""torchlike.distributed.run: torchrun's command line, starting workers for torchlike.

    python -m torchlike.distributed.run --nproc_per_node 2 train.py --epochs 3
    torchlikerun --nnodes 2 --node_rank 0 --master_addr host0 --master_port 29500 ...

Each worker gets the environment torchrun gives it (RANK, LOCAL_RANK, WORLD_SIZE,
LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR, MASTER_PORT ...), so
`init_process_group("gloo")` (env://) joins them. When a worker fails, the others are
stopped and the launcher exits non-zero, naming the failed rank (as torchrun does), so a
failure never leaves the job hanging.
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

_GRACE_SECONDS = 5


def parse_args(argv):
    p = argparse.ArgumentParser(prog="torchlikerun", description=__doc__.split("\n")[0])
    p.add_argument("--nnodes", default="1", help="number of nodes (or MIN:MAX; MIN is used)")
    p.add_argument("--nproc_per_node", "--nproc-per-node", default="1",
                   help="workers per node: a number, 'gpu' (one per GPU), 'cpu' (one per "
                        "core) or 'auto' (GPUs if any, else cores)")
    p.add_argument("--node_rank", "--node-rank", type=int, default=0)
    p.add_argument("--master_addr", "--master-addr", default="127.0.0.1")
    p.add_argument("--master_port", "--master-port", type=int, default=29500)
    p.add_argument("--standalone", action="store_true",
                   help="one node, a free local port picked for the coordinator")
    p.add_argument("--rdzv_id", "--rdzv-id", default=None)
    p.add_argument("--max_restarts", "--max-restarts", type=int, default=0,
                   help="accepted for torchrun compatibility; workers are not restarted")
    p.add_argument("-m", "--module", action="store_true",
                   help="run training_script as a module (python -m)")
    p.add_argument("--no_python", "--no-python", action="store_true",
                   help="run training_script directly, not through python")
    p.add_argument("training_script")
    p.add_argument("training_script_args", nargs=argparse.REMAINDER)
    return p.parse_args(argv)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _nproc(value):
    if value == "cpu":
        return os.cpu_count() or 1
    if value in ("gpu", "auto"):
        # one worker per local GPU, as torchrun; 'auto' falls back to the CPU count
        import jax
        try:
            count = len(jax.local_devices(backend="gpu"))
        except RuntimeError:
            count = 0
        if value == "gpu" and not count:
            raise ValueError("Cuda is not available.")
        return count or os.cpu_count() or 1
    return int(value)


def worker_envs(args):
    """The environment of each local worker, as torchrun sets it."""
    nnodes = int(str(args.nnodes).split(":")[0])
    nproc = _nproc(args.nproc_per_node)
    addr, port = args.master_addr, args.master_port
    run_id = args.rdzv_id or "none"
    if args.standalone:
        nnodes, addr, port = 1, "localhost", _free_port()
        run_id = args.rdzv_id or str(uuid.uuid4())
    world = nnodes * nproc
    envs = []
    for local_rank in range(nproc):
        rank = args.node_rank * nproc + local_rank
        env = dict(os.environ)
        env.update(RANK=str(rank), LOCAL_RANK=str(local_rank), WORLD_SIZE=str(world),
                   LOCAL_WORLD_SIZE=str(nproc), GROUP_RANK=str(args.node_rank),
                   GROUP_WORLD_SIZE=str(nnodes), ROLE_RANK=str(rank), ROLE_WORLD_SIZE=str(world),
                   ROLE_NAME="default", MASTER_ADDR=addr, MASTER_PORT=str(port),
                   TORCHELASTIC_RUN_ID=run_id, TORCHELASTIC_RESTART_COUNT="0",
                   TORCHELASTIC_MAX_RESTARTS=str(args.max_restarts),
                   TORCH_NCCL_ASYNC_ERROR_HANDLING="1")
        if nproc > 1:
            # torchrun's default too: N workers each using every core would oversubscribe
            env.setdefault("OMP_NUM_THREADS", "1")
        envs.append(env)
    return envs


def _command(args):
    if args.no_python:
        return [args.training_script] + args.training_script_args
    if args.module:
        return [sys.executable, "-u", "-m", args.training_script] + args.training_script_args
    return [sys.executable, "-u", args.training_script] + args.training_script_args


def _signal_group(proc, sig):
    """sig to the worker's process group: its own children stop with it."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _stop(procs):
    for p in procs:
        if p.poll() is None:
            _signal_group(p, signal.SIGTERM)
    deadline = time.monotonic() + _GRACE_SECONDS
    for p in procs:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(p, signal.SIGKILL)
            p.wait()


def _how_it_ended(code):
    """'exited with code 1', or for a negative code 'was killed by signal 9 (SIGKILL)'."""
    if code >= 0:
        return f"exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = "unknown signal"
    return f"was killed by signal {-code} ({name})"


def launch(args):
    """Start the local workers and watch them; the launcher's exit status."""
    envs = worker_envs(args)
    command = _command(args)
    # each worker leads a process group of its own (as torchrun's workers do), so that
    # stopping it also stops what it started
    procs = [subprocess.Popen(command, env=env, start_new_session=True) for env in envs]
    running = {p.pid: (int(env["RANK"]), local_rank, p)
               for local_rank, (env, p) in enumerate(zip(envs, procs))}
    try:
        while running:
            # os.wait returns workers in the order they end: the first failure is the cause
            pid, status = os.wait()
            if pid not in running:
                continue
            rank, local_rank, proc = running.pop(pid)
            proc.returncode = code = os.waitstatus_to_exitcode(status)
            if code != 0:
                _stop(procs)
                shown = command if args.no_python else command[1:]
                print(f"torchlike.distributed.run: worker failed: rank {rank} (local_rank "
                      f"{local_rank}, pid {pid}) {_how_it_ended(code)}; the other workers "
                      f"were stopped.\n  script: {' '.join(shown)}", file=sys.stderr, flush=True)
                return 1
        return 0
    except (KeyboardInterrupt, _Terminated) as stopped:
        _stop(procs)
        return 143 if isinstance(stopped, _Terminated) else 130


class _Terminated(Exception):
    """The launcher got SIGTERM: its workers are stopped before it exits."""


def _raise_terminated(signum, frame):
    raise _Terminated()


def main(argv=None):
    signal.signal(signal.SIGTERM, _raise_terminated)
    sys.exit(launch(parse_args(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    main()
