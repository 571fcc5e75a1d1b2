"""JAX's persistent compilation cache serves torchlike's programs in a later process.

README tells how to enable it: JAX keeps only programs whose compile took a second or
more unless `jax_persistent_cache_min_compile_time_secs` is lowered, and a training
step's programs take well under that. A second process with the same cache directory
then loads every program it compiles (the fused backward, the optimizer's update, a
small program compiled by _small_programs' quicker path) instead of compiling it."""
import json
import subprocess
import sys

SCRIPT = r"""
import json, sys
import jax
jax.config.update("jax_compilation_cache_dir", sys.argv[1])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
events = []
jax.monitoring.register_event_listener(lambda event, **kw: events.append(event))
import torchlike as torch

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(40, 30), torch.nn.ReLU(), torch.nn.Linear(30, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
x = torch.randn(16, 40)
y = torch.randint(0, 3, (16,))
losses = []
for _ in range(3):                  # a step with parameters above 1024 numbers
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
leaf = torch.ones(3, 3, requires_grad=True)     # a small program (_small_programs)
((leaf + 2) * (leaf + 2) * 3).mean().backward()
print(json.dumps({"losses": losses, "grad": leaf.grad.tolist(),
                  "hits": events.count("/jax/compilation_cache/cache_hits"),
                  "misses": events.count("/jax/compilation_cache/cache_misses")}))
"""


def _run(cache_dir):
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(cache_dir)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_second_process_loads_every_program_from_the_persistent_cache(tmp_path):
    first = _run(tmp_path)
    second = _run(tmp_path)
    # the first process compiled (and stored) the step's programs and the small one
    assert first["misses"] >= 3 and first["hits"] == 0, first
    # the second found every one of them, compiled none, and computed the same values
    assert second["hits"] == first["misses"] and second["misses"] == 0, (first, second)
    assert second["losses"] == first["losses"] and second["grad"] == first["grad"]
    assert second["grad"] == [[2.0] * 3] * 3      # d/dx mean(3 (x+2)^2) = 6 (x+2) / 9 = 2 at x=1
