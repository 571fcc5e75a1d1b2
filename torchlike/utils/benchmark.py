"""torch.utils.benchmark's Timer, Measurement and Compare: time a statement as PyTorch's
Timer does (the tutorials' `Timer(stmt=..., globals=...).timeit(100)`), printed the same
way, and many measurements in PyTorch's tables.

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

__all__ = ["Timer", "Measurement", "Compare", "select_unit"]


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

    def _fields(self):
        return (self.stmt, self.setup, self.global_setup, self.label, self.sub_label,
                self.description, self.env, self.num_threads)

    def __eq__(self, other):        # (Measurement.merge groups replicates by it)
        return isinstance(other, TaskSpec) and self._fields() == other._fields()

    def __hash__(self):
        return hash(self._fields())

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

    @property
    def has_warnings(self):
        return bool(self._warnings())

    @property
    def as_row_name(self):
        return self.task_spec.sub_label or self.task_spec.stmt or "[Unknown]"

    @property
    def significant_figures(self):
        """A rough count of the median's trustworthy digits, from the spread of the
        interquartile times (PyTorch's estimate, which Compare's trimming uses)."""
        times = sorted(self.times)
        middle = np.array(times[len(times) // 4:math.ceil(3 * len(times) / 4)], np.float64)
        interval = max(1.645 * float(middle.std()) / math.sqrt(len(middle)), 2.5e-8)
        return min(max(math.floor(math.log10(self.median / interval)), 1), 4)

    @staticmethod
    def merge(measurements):
        """Replicates (the same TaskSpec) as one Measurement of per-run times each."""
        groups = {}
        for m in measurements:
            groups.setdefault(m.task_spec, []).extend(m.times)
        return [Measurement(1, times, spec) for spec, times in groups.items()]

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


# -- Compare: PyTorch's table of many measurements ------------------------------------
_BEST, _GOOD, _BAD, _VERY_BAD = "\033[92m", "\033[34m", "\033[2m\033[91m", "\033[31m"
_BOLD, _END = "\033[1m", "\033[0m"
_UNIT_NAMES = {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}


def _trim_sigfig(x, n):
    magnitude = math.ceil(math.log10(abs(x)))
    scale = 10.0 ** (magnitude - n)
    return float(np.round(x / scale) * scale)


class Compare:
    """torch.utils.benchmark.Compare: measurements as tables, one per label; a row per
    (threads, env, sub_label or stmt), a column per description, medians in one unit."""

    def __init__(self, results):
        self._results = []
        self.extend_results(results)
        self._trim = self._highlight = False
        self._colorize = None           # None, "columnwise" or "rowwise"

    def extend_results(self, results):
        for r in results:
            if not isinstance(r, Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(r)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self):
        self._trim = True

    def colorize(self, rowwise=False):
        self._colorize = "rowwise" if rowwise else "columnwise"

    def highlight_warnings(self):
        self._highlight = True

    def print(self):
        print(str(self))

    def __str__(self):
        by_label = {}
        for m in Measurement.merge(self._results):
            by_label.setdefault(m.task_spec.label, []).append(m)
        return "\n".join(self._table(group) for group in by_label.values())

    def _table(self, results):
        unit, scale = select_unit(min(r.median for r in results))
        rows = sorted(dict.fromkeys((r.task_spec.num_threads, r.task_spec.env, r.as_row_name)
                                    for r in results), key=lambda k: k[:2])
        columns = list(dict.fromkeys(r.task_spec.description for r in results))
        cell = {((r.task_spec.num_threads, r.task_spec.env, r.as_row_name),
                 r.task_spec.description): r for r in results}
        grid = [[cell.get((row, col)) for col in columns] for row in rows]
        envs = {r.task_spec.env for r in results}
        env_width = max(len(e) for e in envs) if len(envs) > 1 else 0
        # a group of rows per thread count; a column's number format from its medians
        groups, starts, previous = [], [], None
        for k, (threads, _, _) in enumerate(rows):
            if threads != previous:
                groups.append([])
                starts.append(k)
                previous = threads
            groups[-1].append(grid[k])
        formats = [self._column_format([r for row in grid for r in [row[j]] if r], scale)
                   for j in range(len(columns))]
        texts, previous_env = [[""] + [c or "" for c in columns]], None
        for k, (threads, env, name) in enumerate(rows):
            if k in starts:
                previous_env = ""
            shown_env = (f"({env})" if len(envs) > 1 and env != previous_env else "")
            previous_env = env
            texts.append(["  " + shown_env.ljust(env_width + 4) + name] + [
                formats[j](r, scale) for j, r in enumerate(grid[k])])
        widths = [max(len(t[j]) for t in texts) for j in range(len(texts[0]))]
        header = "  |  ".join(t.center(w) for t, w in zip(texts[0], widths))
        lines = [header]
        for k, (threads, _, _) in enumerate(rows):
            if k in starts:
                lines.append(f"{threads} threads: ".ljust(len(header), "-"))
            best = self._best(grid, k, groups, starts)
            lines.append("  |  ".join(
                [texts[k + 1][0].ljust(widths[0])] +
                [self._colored(t.center(w), r, b) for t, w, r, b in
                 zip(texts[k + 1][1:], widths[1:], grid[k], best)]))
        label = results[0].task_spec.label
        warned = self._highlight and any(r.has_warnings for r in results)
        return (f"[{(' ' + (label or '') + ' ').center(len(header) - 2, '-')}]\n"
                + "\n".join(lines) + f"\n\nTimes are in {_UNIT_NAMES[unit]}s ({unit}).\n"
                + ("(! XX%) Measurement has high variance, where XX is the IQR / median * "
                   "100.\n" if warned else ""))

    def _column_format(self, column, scale):
        """A column's cell text: its medians with a common number of digits."""
        digits = [math.ceil(math.log10(r.median / scale)) for r in column]
        decimals = min(max(r.significant_figures - d, 0) for d, r in zip(digits, column)) \
            if self._trim else 1
        width = max(digits) + decimals + (1 if decimals else 0)
        highlight = self._highlight and any(r.has_warnings for r in column)

        def text(r, scale):
            if r is None:
                return " " * len(text(column[0], scale)) if column else ""
            value = r.median / scale
            if self._trim:
                value = _trim_sigfig(value, r.significant_figures)
            spread = (f" (! {r.iqr / r.median * 100:.0f}%)" if highlight and r.has_warnings
                      else "")
            return f"{value:>{width}.{decimals}f}" + (f"{spread:>7}" if highlight else spread)
        return text

    def _best(self, grid, k, groups, starts):
        """The best median each cell of row k is colored against (None: no color)."""
        if self._colorize is None:
            return [None] * len(grid[k])
        if self._colorize == "rowwise":
            return [min(r.median for r in grid[k] if r)] * len(grid[k])
        group = groups[max(g for g, s in enumerate(starts) if s <= k)]
        return [min((row[j].median for row in group if row[j]), default=None)
                for j in range(len(grid[k]))]

    @staticmethod
    def _colored(text, result, best):
        if best is None or result is None:
            return text
        value = result.median
        if value <= best * 1.01 or value <= best + 100e-9:
            return _BEST + _BOLD + text + _END * 2
        if value <= best * 1.1:
            return _GOOD + _BOLD + text + _END * 2
        if value >= best * 5:
            return _VERY_BAD + _BOLD + text + _END * 2
        if value >= best * 2:
            return _BAD + text + _END * 2
        return text


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
