"""torch._dynamo.eval_frame's names that user code reads (isinstance checks of a compiled
module, to reach its `_orig_mod`)."""
from .._compile.api import OptimizedModule          # noqa: F401
from .._compile.breaks import disable               # noqa: F401
