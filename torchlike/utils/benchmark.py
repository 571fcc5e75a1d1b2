"""torch.utils.benchmark's Timer and Measurement: time a statement as PyTorch's Timer
does (the tutorials' `Timer(stmt=..., globals=...).timeit(100)`), printed the same way.

JAX runs work asynchronously, so the clock waits for the arrays JAX still computes
before it reads the time (as PyTorch's Timer synchronizes CUDA). A statement whose
results are never read costs what torchlike spends on it: recording pending ops that
nothing computes.
"""
import math
import textwrap
import time
import timeit as _timeit

import jax
import numpy as np

__all__ = ["Timer", "Measurement", "select_unit"]


def _synchronized_clock():
    """perf_counter once the device work dispatched so far is done."""
    for array in jax.live_arrays():
        array.block_until_ready()
    return time.perf_counter()


def select_unit(t):
    """The unit PyTorch prints `t` seconds in, and its scale."""
    exponent = math.floor(math.log10(t) / 3) if t > 0 else -3
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(exponent, "s")
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


class TaskSpec:
    """What was timed: the statement, its setup and its labels."""

    def __init__(self, stmt, setup, global_setup="", label=None, sub_label=None,
                 description=None, env=None, num_threads=1):
        self.stmt, self.setup, self.global_setup = stmt, setup, global_setup
        self.label, self.sub_label, self.description = label, sub_label, description
        self.env, self.num_threads = env, num_threads

    @property
    def title(self):
        sub = f": {self.sub_label}" if self.sub_label else ""
        if self.label is not None:
            return self.label + sub
        if "\n" not in self.stmt:
            return self.stmt + sub
        return (f"stmt:{f' ({self.sub_label})' if self.sub_label else ''}\n"
                f"{textwrap.indent(self.stmt, '  ')}")

    def summarize(self):
        """The lines a Measurement's repr starts with."""
        sections = [self.title, self.description or ""]
        if self.setup and self.setup != "pass":
            sections.append(f"setup:\n{textwrap.indent(self.setup, '  ')}" if "\n" in self.setup
                            else f"setup: {self.setup}")
        return "\n".join(f"{s}\n" if "\n" in s else s for s in sections if s)


class Measurement:
    """The times of `number_per_run` runs of a statement, one per measurement."""

    def __init__(self, number_per_run, raw_times, task_spec, metadata=None):
        self.number_per_run = number_per_run
        self.raw_times = list(raw_times)
        self.task_spec = task_spec
        self.metadata = metadata

    # -- statistics, per run --------------------------------------------------------
    @property
    def times(self):
        return [t / self.number_per_run for t in self.raw_times]

    def _quantile(self, q):
        return float(np.quantile(np.array(self.times, np.float64), q))

    @property
    def median(self):
        return self._quantile(0.5)

    @property
    def mean(self):
        return float(np.mean(self.times))

    @property
    def iqr(self):
        return self._quantile(0.75) - self._quantile(0.25)

    def meets_confidence(self, threshold=0.1):
        return self.iqr / self.median < threshold

    # -- what it timed ----------------------------------------------------------------
    def __getattr__(self, name):
        if name in ("stmt", "setup", "label", "sub_label", "description", "env",
                    "num_threads", "title"):
            return getattr(self.task_spec, name)
        raise AttributeError(f"'Measurement' object has no attribute '{name}'")

    def _warnings(self):
        spread = self.iqr / self.median
        if spread < 0.1:
            return []
        why = ("This suggests significant environmental influence." if spread >= 0.25 else
               "This could indicate system fluctuation.")
        return [f"  WARNING: Interquartile range is {spread * 100:.1f}% of the median "
                f"measurement.\n           {why}"]

    def __repr__(self):
        n = len(self.raw_times)
        unit, scale = select_unit(self.median)
        threads = self.task_spec.num_threads
        lines = [object.__repr__(self), self.task_spec.summarize(),
                 f"  {'Median: ' if n > 1 else ''}{self.median / scale:.2f} {unit}"]
        if n >= 4:          # (fewer measurements have no meaningful quartiles)
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} ("
                         f"{self._quantile(0.25) / scale:.2f} to "
                         f"{self._quantile(0.75) / scale:.2f})")
        lines.append(f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs "
                     f"{'per measurement,' if n > 1 else ','} {threads} "
                     f"thread{'s' if threads > 1 else ''}")
        return "\n".join(lines + ["\n".join(self._warnings())]).strip()


class Timer:
    """torch.utils.benchmark.Timer: `stmt` run `number` times after `setup`, in a
    namespace holding `globals`."""

    def __init__(self, stmt="pass", setup="pass", global_setup="", timer=None, globals=None,
                 label=None, sub_label=None, description=None, env=None, num_threads=1,
                 language="python"):
        if language not in ("python", "py"):
            raise ValueError(f"Invalid language `{language}`: torchlike times Python "
                             "statements only.")
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        self._task_spec = TaskSpec(textwrap.dedent(stmt).strip(),
                                   textwrap.dedent(setup).strip(), global_setup, label,
                                   sub_label, description, env, num_threads)
        self._timer = _timeit.Timer(self._task_spec.stmt, self._task_spec.setup,
                                    timer=timer or _synchronized_clock,
                                    globals=dict(globals or {}))

    def _timeit(self, number):
        return max(self._timer.timeit(number), 1e-9)

    def _measurement(self, number, times):
        return Measurement(number, times, self._task_spec)

    def timeit(self, number=1000000):
        """One measurement of `number` runs, after a warm-up of a hundredth of them."""
        self._timeit(max(number // 100, 2))
        return self._measurement(number, [self._timeit(number)])

    def _block_size(self, min_run_time):
        """Runs per measurement: enough that the clock's own cost is negligible."""
        overhead = float(np.median([self._timeit(0) for _ in range(5)]))
        number = 1
        while True:
            taken = self._timeit(number)
            if (overhead / taken <= 1e-4 and taken >= min_run_time / 1000) or \
                    taken > min_run_time or number * 10 > 2147483647:
                return number
            number *= 10

    def _measure_until(self, number, enough, min_run_time, max_run_time=None, callback=None):
        total, times = 0.0, []
        while total < min_run_time or not enough(times):
            spent = self._timeit(number)
            times.append(spent)
            total += spent
            if callback is not None:
                callback(number, spent)
            if max_run_time is not None and total > max_run_time:
                break
        return times

    def blocked_autorange(self, callback=None, min_run_time=0.2):
        """Measurements of a block of runs each, for at least `min_run_time` seconds."""
        number = self._block_size(min_run_time)
        return self._measurement(number, self._measure_until(
            number, lambda times: True, min_run_time, callback=callback))

    def adaptive_autorange(self, threshold=0.1, *, min_run_time=0.01, max_run_time=10.0,
                           callback=None):
        """Measurements until their interquartile range is within `threshold` of their
        median (at least 4 of them), or `max_run_time` seconds."""
        number = self._block_size(min_run_time=0.05)

        def confident(times):
            return len(times) > 3 and self._measurement(number, times).meets_confidence(
                threshold)
        return self._measurement(number, self._measure_until(
            number, confident, min_run_time, max_run_time, callback))
