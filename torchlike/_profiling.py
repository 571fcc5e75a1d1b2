"""torch.profiler and torch.autograd.profiler: `record_function` regions timed on the
host, averaged per name in PyTorch's table, and exported as a Chrome trace.

What it measures: the wall time of each `record_function` region (and of each step
between `profile.step()` calls, as PyTorch's `ProfilerStep#N`). It does not list
operators as PyTorch's does (aten::addmm ...): torchlike runs a step's ops as a few
fused XLA programs, asynchronously, so an op has no time of its own. Each region is
also a `jax.profiler.TraceAnnotation`, so that JAX's profiler (jax.profiler.trace),
which sees the XLA programs on the device, shows the regions too.
"""
import enum
import gzip
import json
import os
import socket
import threading
import time

import jax

__all__ = ["profile", "record_function", "ProfilerActivity", "ProfilerAction", "schedule",
           "tensorboard_trace_handler", "supported_activities", "EventList",
           "FunctionEvent", "FunctionEventAvg"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5

    def __repr__(self):
        return f"<ProfilerActivity.{self.name}: {self.value}>"

    def __str__(self):
        return f"ProfilerActivity.{self.name}"


def supported_activities():
    return {ProfilerActivity.CPU}


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """PyTorch's schedule: step number -> what the profiler does at that step (after
    skip_first steps: cycles of `wait` idle, `warmup`, `active` recorded steps, the
    last of which saves; `repeat` cycles, 0 for no end)."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError("Invalid profiler schedule arguments")

    def action(step):
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        cycle = wait + warmup + active
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        in_cycle = step % cycle
        if in_cycle < wait:
            return ProfilerAction.NONE
        if in_cycle < wait + warmup:
            return ProfilerAction.WARMUP
        return (ProfilerAction.RECORD if in_cycle < cycle - 1
                else ProfilerAction.RECORD_AND_SAVE)
    return action


def _format_time(us):
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


class FunctionEvent:
    """One timed region: its name, thread, start and end (microseconds), and the
    regions that ran inside it."""

    def __init__(self, id, name, thread, start_us, end_us):
        self.id, self.name, self.key, self.thread = id, name, name, thread
        self.time_range_start, self.time_range_end = start_us, end_us
        self.cpu_children = []
        self.cpu_parent = None
        self.count = 1

    @property
    def cpu_time_total(self):
        return self.time_range_end - self.time_range_start

    @property
    def self_cpu_time_total(self):
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} "
                f"cpu_time={_format_time(self.cpu_time_total)} thread={self.thread}>")


class FunctionEventAvg:
    """The events of one name together: count, total and self time (microseconds)."""

    def __init__(self, key):
        self.key, self.count = key, 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0
        self.device_time_total = self.self_device_time_total = 0.0

    def add(self, event):
        self.count += 1
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        return self

    @property
    def cpu_time(self):
        return self.cpu_time_total / max(self.count, 1)

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time="
                f"{_format_time(self.self_cpu_time_total)} cpu_time="
                f"{_format_time(self.cpu_time)} count={self.count}>")


_HEADERS = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
            "# of Calls"]


class EventList(list):
    """A list of events, printed as PyTorch's table."""

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        averages = {}
        for event in self:
            averages.setdefault(event.key, FunctionEventAvg(event.key)).add(event)
        return EventList(averages.values())

    @property
    def self_cpu_time_total(self):
        return sum(e.self_cpu_time_total for e in self)

    def total_average(self):
        total = FunctionEventAvg("Total")
        for event in self:
            total.count += event.count
            total.cpu_time_total += event.cpu_time_total
            total.self_cpu_time_total += event.self_cpu_time_total
        return total

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False):
        """PyTorch's table of these events (its CPU columns), sorted by `sort_by`
        (an attribute, descending), at most `row_limit` rows (-1: all)."""
        if not self:
            return ""
        events = list(self)
        if sort_by is not None:
            events.sort(key=lambda e: getattr(e, sort_by), reverse=True)
        if row_limit is not None and row_limit >= 0:
            events = events[:row_limit]
        total = sum(e.self_cpu_time_total for e in self)
        width = max(len(e.key) for e in self) + 4      # (every event's, listed or not)
        if max_name_column_width is not None:
            width = min(width, max_name_column_width)
        widths = [width] + [12] * (len(_HEADERS) - 1)
        row = "".join("{:>" + str(w) + "}  " for w in widths)
        rule = "".join("-" * w + "  " for w in widths)

        def share(us):
            return f"{us / total * 100:.2f}%" if total else "0.00%"
        lines = ["=" * (len(rule) - 2), header] if header is not None else []
        lines += [rule, row.format(*_HEADERS), rule]
        for e in events:
            name = e.key
            if max_name_column_width is not None and len(name) >= max_name_column_width - 3:
                name = name[:max_name_column_width - 3] + "..."
            lines.append(row.format(name, share(e.self_cpu_time_total),
                                    _format_time(e.self_cpu_time_total),
                                    share(e.cpu_time_total), _format_time(e.cpu_time_total),
                                    _format_time(e.cpu_time_total / max(e.count, 1)),
                                    e.count))
        lines += [rule, f"Self CPU time total: {_format_time(total)}"]
        return "\n".join(lines) + "\n"

    def export_chrome_trace(self, path):
        """The events as a Chrome trace (chrome://tracing, Perfetto)."""
        pid = os.getpid()
        trace = {"traceEvents": [
            {"ph": "X", "cat": "user_annotation", "name": e.name, "pid": pid,
             "tid": e.thread, "ts": e.time_range_start, "dur": e.cpu_time_total, "args": {}}
            for e in self]}
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(path, "wt") as f:
            json.dump(trace, f)


class _Recorder(threading.local):
    open = None           # this thread's regions open now (innermost last)


_recorder = _Recorder()
_active = []              # the profilers recording (at most one: PyTorch's rule)


def _now_us():
    return time.perf_counter_ns() / 1000.0


class record_function:
    """A named region: timed by the profiler that is recording, if any (a context
    manager, or a decorator)."""

    def __init__(self, name, args=None):
        self.name, self.args = name, args
        self._annotation = self._event = None

    def __enter__(self):
        self._annotation = jax.profiler.TraceAnnotation(self.name)
        self._annotation.__enter__()
        if _active and _active[0]._recording:
            self._event = _active[0]._open(self.name)
        return self

    def __exit__(self, *exc_info):
        if self._event is not None:
            self._event[0]._close(self._event[1])
            self._event = None
        self._annotation.__exit__(*exc_info)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with record_function(self.name):
                return fn(*args, **kwargs)
        return wrapped


class profile:
    """torch.profiler.profile: records the `record_function` regions run inside it
    (and, with a schedule, only in the steps it records); key_averages() gives
    PyTorch's table."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes=False, profile_memory=False, with_stack=False,
                 with_flops=False, with_modules=False, experimental_config=None,
                 execution_trace_observer=None, acc_events=False, use_cuda=None,
                 enabled=True, custom_trace_id_callback=None):
        self.activities = set(activities) if activities else supported_activities()
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.enabled = enabled
        self.step_num = 0
        self._events = EventList()
        self._saved = None        # (with a schedule) the events of the last saved cycle
        self._next_id = 0
        self._recording = False
        self._step_region = None

    # -- recording --------------------------------------------------------------------
    def _action(self):
        return ProfilerAction.RECORD if self.schedule is None else self.schedule(self.step_num)

    def _open(self, name):
        stack = _recorder.open
        if stack is None:
            stack = _recorder.open = []
        event = FunctionEvent(self._next_id, name, threading.get_ident(), _now_us(), None)
        self._next_id += 1
        if stack:
            event.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(event)
        stack.append(event)
        self._events.append(event)      # (in the order they start, as PyTorch lists them)
        return self, event

    def _close(self, event):
        event.time_range_end = _now_us()
        stack = _recorder.open
        if stack and stack[-1] is event:
            stack.pop()

    def _begin_step(self):
        action = self._action()
        self._recording = action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
        if self._recording:
            # (PyTorch's results name every step's region so, to average them together)
            self._step_region = self._open("ProfilerStep*")[1] \
                if self.schedule is not None else None
        return action

    def _end_step(self, action):
        if self._step_region is not None:
            self._close(self._step_region)
            self._step_region = None
        if action is ProfilerAction.RECORD_AND_SAVE:
            if self.schedule is not None:
                self._saved = self._events
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)

    # -- the API ------------------------------------------------------------------------
    def start(self):
        if not self.enabled:
            return
        if _active:
            raise RuntimeError("Profiler is already enabled on this thread")
        _active.append(self)
        self._current = self._begin_step()

    def stop(self):
        if not self.enabled or self not in _active:
            return
        self._end_step(self._current if self.schedule is not None else
                       ProfilerAction.RECORD_AND_SAVE)
        self._recording = False
        _active.remove(self)

    def step(self):
        """The end of a training step (and the start of the next)."""
        if self not in _active:
            return
        action = self._current
        self.step_num += 1      # (on_trace_ready sees the next step's number, as PyTorch's)
        if self.schedule is not None:
            self._end_step(action)
            if action is ProfilerAction.RECORD_AND_SAVE:
                self._events = EventList()      # (a new cycle records afresh)
            self._current = self._begin_step()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()
        return False

    def events(self):
        """The recorded regions that have ended (with a schedule: those of the cycle
        being saved, or else of the last saved one)."""
        events = self._events if self._saved is None or self._events else self._saved
        return EventList(e for e in events if e.time_range_end is not None)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        return self.events().key_averages()

    def export_chrome_trace(self, path):
        self.events().export_chrome_trace(path)

    @property
    def self_cpu_time_total(self):
        return self.events().self_cpu_time_total


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An on_trace_ready that writes each saved trace into `dir_name` (as PyTorch names
    them: worker.time.pt.trace.json)."""
    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker}.{time.time_ns() // 1_000_000}.pt.trace.json"
        prof.export_chrome_trace(os.path.join(dir_name, name + (".gz" if use_gzip else "")))
    return handler
