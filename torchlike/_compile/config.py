"""torchlike._dynamo.config: the settings of torchlike.compile."""
# distinct guards (traces) per compiled function before it runs eagerly, as PyTorch's
recompile_limit = 8
cache_size_limit = recompile_limit      # PyTorch's older name
# with dynamic shapes (dynamic=None or True), the programs kept per function: one per
# shape seen, the least recently used dropped beyond this (and retraced if it returns)
programs_per_function = 64
# .item() inside a compiled function gives a symbol traced into the program, not a graph
# break, as PyTorch's setting (fullgraph=True always does: symbolic.py)
capture_scalar_outputs = False
# torch.func transforms run as compiled programs, one per guard (_func_tier.py)
compile_func_transforms = True


def limit():
    """The limit in force: whichever of the two names the user changed."""
    return cache_size_limit if cache_size_limit != 8 else recompile_limit
