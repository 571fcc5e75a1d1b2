"""Padding modules: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad
(1d/2d/3d), all through the functional pad."""
from ._functional import F
from .module import Module


def _expand(padding, dims):
    """An int pads every side; a tuple is (left, right, top, bottom, front, back)."""
    if isinstance(padding, int):
        return (padding,) * (2 * dims)
    return tuple(padding)


class _PadNd(Module):
    _dims = 0
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _expand(padding, self._dims)

    def forward(self, input):
        return F("pad")(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F("pad")(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


def _classes(base, prefix, mode):
    return [type(f"{prefix}{n}d", (base,), {"_dims": n, "_mode": mode,
                                            "__module__": __name__}) for n in (1, 2, 3)]


ConstantPad1d, ConstantPad2d, ConstantPad3d = _classes(_ConstantPadNd, "ConstantPad", "constant")
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = _classes(_PadNd, "ReflectionPad", "reflect")
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = _classes(_PadNd, "ReplicationPad",
                                                                "replicate")
CircularPad1d, CircularPad2d, CircularPad3d = _classes(_PadNd, "CircularPad", "circular")


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


ZeroPad1d, ZeroPad2d, ZeroPad3d = _classes(_ZeroPadNd, "ZeroPad", "constant")
