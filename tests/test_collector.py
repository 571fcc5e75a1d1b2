"""torchlike's import freezes the objects that exist then and raises the youngest
generation's threshold (torchlike/_collector.py): a full collection during a long graph's
life no longer walks JAX's and torchlike's module objects, and a long graph no longer
triggers one every step. Each check runs in a fresh interpreter, since the suite's own
process imported torchlike long ago."""
import os
import subprocess
import sys

import pytest

from torchlike import _collector

FRESH_IMPORT = """
import gc, weakref
before = gc.get_freeze_count()
import jax.numpy
python_thresholds = gc.get_threshold()
import torchlike
namespace = jax.numpy.__dict__
print(before, gc.get_freeze_count(), any(o is namespace for o in gc.get_objects()))
print(python_thresholds == gc.get_threshold(), gc.get_threshold()[0], python_thresholds[1:] == gc.get_threshold()[1:])

class Cycle: pass                      # made after the import: still collected
a, b = Cycle(), Cycle(); a.other, b.other = b, a
alive = weakref.ref(a); del a, b
gc.collect()
print(alive() is None)
"""


def _fresh_import(freeze_setting):
    env = dict(os.environ)
    env.pop("TORCHLIKE_GC_FREEZE", None)
    if freeze_setting is not None:
        env["TORCHLIKE_GC_FREEZE"] = freeze_setting
    done = subprocess.run([sys.executable, "-c", FRESH_IMPORT], env=env, capture_output=True,
                          text=True, timeout=300, check=True)
    counts, thresholds, collected = done.stdout.split("\n")[:3]
    before, after, module_dict_listed = counts.split()
    unchanged, young, older_unchanged = thresholds.split()
    return (int(before), int(after), module_dict_listed == "True", collected == "True",
            (unchanged == "True", int(young), older_unchanged == "True"))


@pytest.mark.parametrize("setting", [None, "1"])
def test_import_freezes_the_objects_it_made_and_later_cycles_are_still_collected(setting):
    before, after, listed, collected, thresholds = _fresh_import(setting)
    assert before == 0
    assert after > 50_000          # JAX's modules alone make about 90,000 tracked objects
    assert not listed              # the collector no longer walks a module's namespace
    assert collected
    # the youngest generation's threshold raised from Python's 700, the older ones kept
    assert thresholds == (False, _collector.YOUNG_THRESHOLD, True)


def test_the_environment_variable_keeps_the_collector_as_it_was():
    before, after, listed, collected, (unchanged, _, _) = _fresh_import("0")
    assert (before, after, listed, collected, unchanged) == (0, 0, True, True, True)
