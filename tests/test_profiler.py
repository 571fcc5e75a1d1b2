"""torchlike.profiler / torchlike.autograd.profiler against torch's: the regions a run
records, PyTorch's table of the same events, schedules, and the Chrome trace."""
import json
import time

import pytest

import torchlike
from torchlike import _profiling

torch = pytest.importorskip("torch")
import torch.profiler  # noqa: E402
from torch.autograd import profiler_util  # noqa: E402


def _synthetic(lib):
    """The same four regions (outer with three inside) as each library's events."""
    if lib is torch:
        def event(i, name, start, end):
            return profiler_util.FunctionEvent(i, name, thread=1, start_us=start, end_us=end,
                                               stack=[])
    else:
        def event(i, name, start, end):
            return _profiling.FunctionEvent(i, name, 1, start, end)
    outer = event(0, "outer_region", 0, 18042.0)
    inner = [event(1, "inner", 100, 5100.5), event(2, "inner", 6000, 8261),
             event(3, "x" * 70, 9000, 9000.25)]
    for e in inner:
        outer.cpu_children.append(e)
        e.cpu_parent = outer
    events = (profiler_util.EventList if lib is torch else _profiling.EventList)([outer, *inner])
    events._tree_built = True           # (torch's, as its profiler leaves it)
    return events


@pytest.mark.parametrize("options", [{}, {"sort_by": "cpu_time_total"},
                                     {"sort_by": "self_cpu_time_total", "row_limit": 2},
                                     {"row_limit": -1}, {"header": "HDR"}, {"sort_by": "count"},
                                     {"max_name_column_width": 20}])
def test_table_of_the_same_events_as_torch(options):
    ours = _synthetic(torchlike).key_averages()
    theirs = _synthetic(torch).key_averages()
    assert ours.table(**options) == theirs.table(**options)
    assert [(e.key, e.count, e.cpu_time_total, e.self_cpu_time_total) for e in ours] == \
        [(e.key, e.count, e.cpu_time_total, e.self_cpu_time_total) for e in theirs]


def _regions(lib):
    with lib.profiler.profile(activities=[lib.profiler.ProfilerActivity.CPU]) as prof:
        with lib.profiler.record_function("outer"):
            time.sleep(0.002)
            for _ in range(2):
                with lib.autograd.profiler.record_function("inner"):
                    time.sleep(0.001)
    return prof


def test_recorded_regions_as_torch():
    ours, theirs = _regions(torchlike), _regions(torch)
    assert [e.name for e in ours.events()] == [e.name for e in theirs.events()]
    averages = {e.key: e for e in ours.key_averages()}
    assert [(e.key, e.count) for e in ours.key_averages()] == \
        [(e.key, e.count) for e in theirs.key_averages()]
    outer, inner = averages["outer"], averages["inner"]
    assert outer.cpu_time_total >= inner.cpu_time_total + 2000 > 4000     # (sleeps, in us)
    assert outer.self_cpu_time_total == pytest.approx(outer.cpu_time_total
                                                      - inner.cpu_time_total)


def _scheduled(lib):
    saved = []
    schedule = lib.profiler.schedule(wait=1, warmup=1, active=2, repeat=2, skip_first=1)

    @lib.profiler.record_function("work")
    def work():
        return None
    with lib.profiler.profile(schedule=schedule, on_trace_ready=lambda p: saved.append(
            (p.step_num, sorted(e.name for e in p.events())))) as prof:
        for _ in range(12):
            work()
            prof.step()
    return saved, [schedule(i) for i in range(14)]


def test_schedule_and_trace_ready_as_torch():
    (ours, our_actions), (theirs, their_actions) = _scheduled(torchlike), _scheduled(torch)
    assert ours == theirs
    assert [a.name for a in our_actions] == [a.name for a in their_actions]


def test_chrome_trace_and_tensorboard_handler(tmp_path):
    prof = _regions(torchlike)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    events = json.loads(path.read_text())["traceEvents"]
    assert [e["name"] for e in events] == ["outer", "inner", "inner"]
    assert all(e["ph"] == "X" and e["dur"] > 0 for e in events)
    handler = torchlike.profiler.tensorboard_trace_handler(str(tmp_path / "tb"), "worker0")
    handler(prof)
    written = list((tmp_path / "tb").iterdir())
    assert len(written) == 1 and written[0].name.startswith("worker0.") and \
        written[0].name.endswith(".pt.trace.json")


def test_legacy_profile_table():
    with torchlike.autograd.profiler.profile() as prof:
        with torchlike.autograd.profiler.record_function("region"):
            torchlike.ones(3).sum().item()
    assert [e.name for e in prof.function_events] == ["region"]
    assert prof.table().splitlines()[3].split()[0] == "region"
