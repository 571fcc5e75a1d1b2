"""torch.profiler: record_function regions timed on the host (torchlike/_profiling.py)."""
from .._profiling import (ProfilerAction, ProfilerActivity, profile, record_function,
                          schedule, supported_activities, tensorboard_trace_handler)

__all__ = ["ProfilerAction", "ProfilerActivity", "profile", "record_function", "schedule",
           "supported_activities", "tensorboard_trace_handler"]
