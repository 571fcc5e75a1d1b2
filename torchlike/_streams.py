"""torch.Stream / torch.Event: device-generic handles. XLA orders each device's work
itself, so a stream is a name for "this device's queue": synchronizing waits for the
device, and an event marks a point in time once the work before it has finished."""
import time


def _device_of(device):
    # PyTorch: no device means the current accelerator (its current index), else the CPU
    from ._device import device as make
    from . import accelerator
    if device is None:
        acc = accelerator.current_accelerator()
        return ("cpu", -1) if acc is None else (acc.type, accelerator.current_device_index())
    dev = device if isinstance(device, make) else make(device)
    return dev.type, (-1 if dev.index is None else dev.index)


def _wait_for_device():
    import jax
    jax.effects_barrier()
    for array in jax.live_arrays():
        array.block_until_ready()


class Stream:
    def __init__(self, device=None, *, priority=0):
        self.device_type, self.device_index = _device_of(device)
        self.stream_id = 0
        self.priority = priority

    def query(self):
        return True

    def synchronize(self):
        _wait_for_device()

    def wait_event(self, event):
        pass

    def wait_stream(self, stream):
        pass

    def record_event(self, event=None):
        event = event or Event(self.device_type)
        event.record(self)
        return event

    def __eq__(self, other):
        return isinstance(other, Stream) and (self.device_type, self.device_index,
                                              self.stream_id) == (other.device_type,
                                                                  other.device_index,
                                                                  other.stream_id)

    def __hash__(self):
        return hash((self.device_type, self.device_index, self.stream_id))

    def __repr__(self):
        return (f"torch.Stream device_type={self.device_type}, "
                f"device_index={self.device_index}, stream_id={self.stream_id}")


class Event:
    def __init__(self, device=None, *, enable_timing=False, blocking=False,
                 interprocess=False):
        self.device_type, self.device_index = _device_of(device)
        self.enable_timing = enable_timing
        self.event_id = 0
        self._time = None

    def record(self, stream=None):
        if self.device_type == "cpu":
            raise RuntimeError("cpu backend doesn't support events.")
        _wait_for_device()
        self._time = time.perf_counter()

    def query(self):
        return True

    def synchronize(self):
        _wait_for_device()

    def wait(self, stream=None):
        pass

    def elapsed_time(self, end_event):
        if not (self.enable_timing and end_event.enable_timing):
            raise ValueError("Both events must be created with argument 'enable_timing=True'.")
        if self._time is None or end_event._time is None:
            raise ValueError("Both events must be recorded before calculating elapsed time.")
        return (end_event._time - self._time) * 1000.0

    def __repr__(self):
        return (f"torch.Event device_type={self.device_type}, "
                f"device_index={self.device_index}, event_flag=0, event_id={self.event_id}")
