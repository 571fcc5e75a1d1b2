"""torch._dynamo.utils: the counters user code and tests read."""
from .._compile.breaks import counters      # noqa: F401
