"""torchlike.utils.benchmark (Timer, Measurement) against torch.utils.benchmark: the
same measurements print the same, and a Timer runs a statement as often as PyTorch's."""
import pytest

import torchlike
from torchlike.utils import benchmark

torch = pytest.importorskip("torch")
from torch.utils.benchmark.utils import common as torch_common  # noqa: E402
import torch.utils.benchmark as torch_benchmark  # noqa: E402

SPECS = [dict(stmt="x * 2", setup="pass"),
         dict(stmt="x * 2", setup="y = 1", label="mul", sub_label="float", description="desc"),
         dict(stmt="a = 1\nb = a + 2", setup="pass", sub_label="s"),
         dict(stmt="f(x)", setup="import math\nz = 2", num_threads=4, env="e1")]
TIMES = [[2.99e-4], [3.1e-3, 2.9e-3], [1e-5, 1.2e-5, 1.1e-5, 1.0e-5, 2e-5], [5e-2] * 4,
         [1e-3, 1e-3, 3e-3, 3e-3], [7.0]]


@pytest.mark.parametrize("spec", range(len(SPECS)))
def test_measurements_print_as_torch(spec):
    for times in TIMES:
        for number in (1, 100):
            ours = benchmark.Measurement(number, times, benchmark.TaskSpec(**SPECS[spec]))
            theirs = torch_common.Measurement(number, times,
                                              torch_common.TaskSpec(**SPECS[spec]))
            # (the first line is the object's address)
            assert repr(ours).splitlines()[1:] == repr(theirs).splitlines()[1:]
            assert (ours.median, ours.iqr, ours.title, ours.times) == \
                (theirs.median, theirs.iqr, theirs.title, theirs.times)
            assert ours.mean == pytest.approx(theirs.mean, rel=1e-12)
            assert ours.meets_confidence() == theirs.meets_confidence()


def test_timer_runs_the_statement_as_torch():
    """timeit(n) runs a warm-up of max(n // 100, 2) runs, then n timed ones, once setup
    has run; blocked_autorange measures for at least min_run_time."""
    for number in (5, 500):
        calls = {}
        for name, timer in (("torchlike", benchmark.Timer), ("torch", torch_benchmark.Timer)):
            log = []
            m = timer("log.append(1)", setup="log.append(0)", globals={"log": log}).timeit(number)
            calls[name] = (log.count(1), log.count(0), m.number_per_run, len(m.raw_times))
        assert calls["torchlike"] == calls["torch"]
    x = torchlike.ones(8, 8)
    m = benchmark.Timer("(x @ x).sum().item()", globals={"x": x}, label="mm").blocked_autorange(
        min_run_time=0.05)
    assert sum(m.raw_times) >= 0.05 and m.title == "mm" and m.median > 0
    with pytest.raises(ValueError):
        benchmark.Timer(lambda: None)


def _compare_reports(measurement, task_spec, compare):
    def m(times, n=100, **spec):
        spec.setdefault("stmt", "x * 2")
        spec.setdefault("setup", "pass")
        return measurement(n, times, task_spec(**spec))
    base = [1e-3, 1.1e-3, 1.05e-3, 0.98e-3, 1.2e-3]
    results = [m(base, label="mul", sub_label="float", description="desc"),
               m([t * 1.3 for t in base], label="mul", sub_label="float", description="desc2"),
               m([t * 3 for t in base], label="mul", sub_label="double", description="desc"),
               m([t * 0.5 for t in base], label="mul", sub_label="float", description="desc",
                 num_threads=4),
               m([t * 12 for t in base], label="add", sub_label="int", description="d1"),
               m(base, label="mul", sub_label="float", description="desc"),     # a replicate
               m([2e-6, 9e-6, 3e-6, 2.5e-6], label="noisy", description="c"),
               m(base, label="e", sub_label="s", description="a", env="env1"),
               m(base, label="e", sub_label="s", description="a", env="longer env")]
    reports = []
    for options in ((), ("trim_significant_figures",), ("highlight_warnings",), ("colorize",),
                    ("trim_significant_figures", "highlight_warnings", "colorize")):
        table = compare(results)
        for option in options:
            getattr(table, option)()
        reports.append(str(table))
    rowwise = compare(results)
    rowwise.colorize(rowwise=True)
    reports.append(str(rowwise))
    return reports + [(r.significant_figures, r.has_warnings, r.as_row_name) for r in results]


def test_compare_tables_as_torch():
    """The same measurements make the same tables: rows by threads, env and sub_label,
    columns by description, replicates merged, trimmed digits, warnings, colors."""
    ours = _compare_reports(benchmark.Measurement, benchmark.TaskSpec, benchmark.Compare)
    theirs = _compare_reports(torch_common.Measurement, torch_common.TaskSpec,
                              torch_benchmark.Compare)
    assert ours == theirs
