"""The functional a module calls: torchlike.nn.functional's public one when it exists,
else the private fallback in _functional_layers (so modules never wait on it)."""
from .. import _functional_layers as _layers
from .._functional_layers import activation as _fallback

_public = []        # torchlike.nn.functional, once imported (an import costs ~1 us a call)


def F(name):
    if not _public:
        from .. import functional
        _public.append(functional)
    fn = getattr(_public[0], name, None)
    if fn is None:
        fn = getattr(_layers, name, None) or getattr(_fallback, "_" + name)
    # a module never passes out=: the function without with_out's wrapper (_ops/_common.py)
    return fn.plain if getattr(fn, "with_out", None) is fn else fn
