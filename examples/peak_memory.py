"""Peak memory of an eager torchlike training step against the donating `jax.jit` step
of the same model (issue 8's target: within 1.3x), from XLA's memory analysis.

    python examples/peak_memory.py [mlp|transformer]

A program's peak is its argument + output + temporary bytes less the bytes of outputs
written into donated arguments. The eager step runs one program at `step()`: the
pending forward inputs, the fused backward and the optimizer's update, which writes the
new parameters and optimizer state into the old ones' buffers. Its peak is the step's
(the first step's other programs, such as the parameters' initialization, are
smaller).
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


def measure(name, make, make_jax):
    _compiled.clear()
    step = make(torchlike, "cpu")
    for _ in range(3):
        step().tolist()
    step_program = max(_compiled, key=lambda c: c[1])
    _compiled.clear()
    jax_step = make_jax("cpu")
    for _ in range(2):
        jax_step().tolist()
    jit = max(c[1] for c in _compiled)
    eager = step_program[1]
    print(f"{name}: step {eager / 1e6:.2f} MB ({step_program[2] / 1e6:.2f} MB written in place);"
          f" jax.jit step {jit / 1e6:.2f} MB; torchlike/jax.jit {eager / jit:.2f}")


WORKLOADS = {
    "mlp": ("MLP 784-256-256-10 b128, SGD momentum", benchmark.mlp_small,
            benchmark.mlp_small_jax),
    "transformer": ("TransformerEncoder 2x d64, AdamW", benchmark.transformer,
                    benchmark.transformer_jax),
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
