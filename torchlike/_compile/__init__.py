"""torchlike.compile: PyTorch functions and modules as jax.jit programs.

state.py finds what a function reads and writes; guards.py decides when a program may be
reused; compiled.py traces and runs it; effects.py records and restores what a trace
changes on the Python side; autograd_node.py puts results into the autograd graph;
breaks.py handles code that cannot be one program; split.py splits a function at a
break; api.py is PyTorch's entry points.
"""
from .breaks import Unsupported, disable, is_compiling  # noqa: F401
from .compiled import CompiledCallable  # noqa: F401
