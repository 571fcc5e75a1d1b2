"""Peak memory of an eager torchlike training step against the donating `jax.jit` step
of the same model (issue 8's target: within 1.3x), from XLA's memory analysis.

    python examples/peak_memory.py [mlp|transformer|cnn|lstm|mlp_large ...]

A program's peak is its argument + output + temporary bytes less the bytes of outputs
written into donated arguments. The eager step runs two programs, the fused backward
(with the forward) and the optimizer's group update; while the backward runs, the
optimizer state lives too. So its peak is max(backward + optimizer state, update).
The programs are seen as XLA compiles them (a hook on JAX's private compile function:
this script may need updating for another JAX version).
"""
import os
import sys

import jax._src.compiler as compiler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchmark  # noqa: E402
import torchlike  # noqa: E402

_compiled = []      # (program name, peak bytes, aliased bytes)
_compile = compiler.backend_compile_and_load


def _seeing(backend, module, *args, **kwargs):
    executable = _compile(backend, module, *args, **kwargs)
    stats = executable.get_compiled_memory_stats()
    peak = (stats.argument_size_in_bytes + stats.output_size_in_bytes
            + stats.temp_size_in_bytes - stats.alias_size_in_bytes)
    _compiled.append((str(module.operation.attributes["sym_name"]), peak,
                      stats.alias_size_in_bytes))
    return executable


def _optimizer_of(step):
    return next(c.cell_contents for c in step.__closure__
                if isinstance(c.cell_contents, torchlike.optim.Optimizer))


def measure(name, make, make_jax):
    _compiled.clear()
    step = make(torchlike, "cpu")
    for _ in range(3):
        step().tolist()
    state = sum(v.numel() * v.element_size() for s in _optimizer_of(step).state.values()
                for v in s.values() if isinstance(v, torchlike.Tensor))
    update = max((c for c in _compiled if "group_update" in c[0]), key=lambda c: c[1])
    backward = max((c for c in _compiled if "group_update" not in c[0]), key=lambda c: c[1])
    _compiled.clear()
    jax_step = make_jax("cpu")
    for _ in range(2):
        jax_step().tolist()
    jit = max(c[1] for c in _compiled)
    eager = max(backward[1] + state, update[1])
    print(f"{name}: backward {backward[1] / 1e6:.2f} MB + optimizer state {state / 1e6:.2f} MB,"
          f" update {update[1] / 1e6:.2f} MB ({update[2] / 1e6:.2f} MB written in place);"
          f" jax.jit step {jit / 1e6:.2f} MB; torchlike/jax.jit {eager / jit:.2f}")


WORKLOADS = {
    "mlp": ("MLP 784-256-256-10 b128, SGD momentum", benchmark.mlp_small,
            benchmark.mlp_small_jax),
    "transformer": ("TransformerEncoder 2x d64, AdamW", benchmark.transformer,
                    benchmark.transformer_jax),
    "cnn": ("CNN 2 conv+pool+linear b32, Adam", benchmark.cnn, benchmark.cnn_jax),
    "lstm": ("LSTM h64 seq32 b16 + linear, Adam", benchmark.lstm, benchmark.lstm_jax),
    "mlp_large": ("MLP 1024-1024-1024-10 b512, SGD momentum", benchmark.mlp_large,
                  benchmark.mlp_large_jax),
}


def main(names=None):
    """Measured in a fresh process: which programs a step compiles depends on what the
    process compiled before (a first step met anew, or a backward already cached)."""
    compiler.backend_compile_and_load = _seeing
    try:
        for name in names or WORKLOADS:
            measure(*WORKLOADS[name])
    finally:
        compiler.backend_compile_and_load = _compile


if __name__ == "__main__":
    main(sys.argv[1:])
