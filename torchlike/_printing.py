"""Tensor repr/str that matches PyTorch 2.13 character for character.

This module is deliberately pure (numpy only): the Tensor class hands us a
numpy array of its values plus metadata, and we return the string torch would
print.  The rules below were established by studying torch's behaviour; the
non-obvious ones are called out where they are implemented.
"""

import math

import numpy as np

__all__ = ["set_printoptions", "get_printoptions", "format_tensor"]

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80}
_PROFILES = {
    "default": _DEFAULTS,
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

_OPTS = dict(_DEFAULTS, sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None,
                     linewidth=None, profile=None, sci_mode=None):
    """Same semantics as ``torch.set_printoptions``.

    A profile is applied first and explicit arguments override it.  Note that,
    as in torch, ``sci_mode`` is *always* assigned, so any call that omits it
    resets scientific notation to automatic.
    """
    if profile is not None:
        # torch silently ignores unknown profile names; so do we.
        _OPTS.update(_PROFILES.get(profile, {}))
    for key, val in (("precision", precision), ("threshold", threshold),
                     ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if val is not None:
            _OPTS[key] = val
    _OPTS["sci_mode"] = sci_mode


def get_printoptions():
    """Current options as a dict usable as ``**kwargs`` to set_printoptions."""
    keys = ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")
    return {k: _OPTS[k] for k in keys}


# --------------------------------------------------------------------------
# dtype helpers

# Accept torch's alias spellings too, so callers can pass e.g. 'half' or 'long'.
_ALIASES = {
    "half": "float16", "float": "float32", "double": "float64",
    "long": "int64", "int": "int32", "short": "int16",
    "cfloat": "complex64", "cdouble": "complex128", "chalf": "complex32",
}


def _canonical(name):
    name = str(name)
    if name.startswith("torch."):
        name = name[len("torch."):]
    return _ALIASES.get(name, name)


def _kind(dtype_name):
    if dtype_name == "bool":
        return "bool"
    if dtype_name.startswith("complex"):
        return "complex"
    if dtype_name.startswith(("float", "bfloat")):
        return "float"
    return "int"


# --------------------------------------------------------------------------
# element formatting

class _Formatter:
    """Decides a common width and a notation for one set of values.

    Torch builds this from the (possibly summarised) data, so elements hidden
    behind '...' never influence widths or notation.
    """

    def __init__(self, flat, is_float):
        self.is_float = is_float
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        prec = _OPTS["precision"]

        if not is_float:
            for v in flat.tolist():
                self.width = max(self.width, len(str(v)))
            return

        flat = flat.astype(np.float64)
        # Only finite non-zero values take part in the choice of notation and
        # in the width; nan/inf/zeros are printed however wide they come out.
        vals = flat[np.isfinite(flat) & (flat != 0)]
        if vals.size == 0:
            # Note: this early exit also skips a forced sci_mode=True, so a
            # tensor of only zeros/non-finites prints as '0.' even then.
            return

        absv = np.abs(vals)
        lo, hi = absv.min(), absv.max()
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        if _OPTS["sci_mode"] is None:
            with np.errstate(over="ignore"):  # e.g. 1e300 / 1e-300 -> inf
                ratio = hi / lo
            self.sci_mode = bool(ratio > 1000.0 or hi > 1.0e8 or lo < 1.0e-4)
        else:
            self.sci_mode = bool(_OPTS["sci_mode"])

        for v in vals.tolist():
            if self.sci_mode:
                n = len(f"{v:.{prec}e}")
            elif self.int_mode:
                n = len(f"{v:.0f}") + 1  # +1 for the trailing '.'
            else:
                n = len(f"{v:.{prec}f}")
            self.width = max(self.width, n)

    def format(self, v):
        prec = _OPTS["precision"]
        if not self.is_float:
            s = str(v)
        elif self.sci_mode:
            s = f"{v:{self.width}.{prec}e}"
        elif self.int_mode:
            s = f"{v:.0f}"
            # The dot marks "this is a float"; it would look odd on nan/inf.
            if not (math.isinf(v) or math.isnan(v)):
                s += "."
        else:
            s = f"{v:.{prec}f}"
        return s.rjust(self.width)


def _fmt_value(v, f_re, f_im):
    if f_im is None:
        return f_re.format(v)
    re = f_re.format(v.real)
    # The imaginary part is right-aligned in its own column, but the padding
    # is dropped so the sign sits directly against the real part.
    im = (f_im.format(v.imag) + "j").lstrip()
    return re + im if im[0] in "+-" else re + "+" + im


# --------------------------------------------------------------------------
# layout

def _summarized(arr, edge):
    """The values torch shows when summarising, used to build the formatters."""
    if arr.ndim == 0:
        return arr
    if arr.ndim == 1:
        # With edge == 0 this keeps everything (arr[-0:] is the whole array),
        # which is harmless because nothing but '...' is printed then.
        if arr.shape[0] > 2 * edge:
            return np.concatenate((arr[:edge], arr[-edge:]))
        return arr
    if not edge:
        return arr.reshape(-1)[:0]
    rows = list(range(arr.shape[0]))
    if len(rows) > 2 * edge:
        rows = rows[:edge] + rows[-edge:]
    return np.stack([_summarized(arr[i], edge) for i in rows])


def _vector_str(arr, indent, summarize, f_re, f_im):
    edge, linewidth = _OPTS["edgeitems"], _OPTS["linewidth"]
    # Each element takes its width plus ", "; complex adds imag width and 'j'.
    elem_len = f_re.width + 2
    if f_im is not None:
        elem_len += f_im.width + 1
    per_line = max(1, (linewidth - indent) // elem_len)

    items = arr.tolist()
    if summarize and not edge:
        data = ["..."]
    elif summarize and len(items) > 2 * edge:
        data = ([_fmt_value(v, f_re, f_im) for v in items[:edge]] + [" ..."]
                + [_fmt_value(v, f_re, f_im) for v in items[-edge:]])
    else:
        data = [_fmt_value(v, f_re, f_im) for v in items]

    # Line breaking counts by element, not by characters, so over-wide
    # elements (e.g. 'nan' or '-0.0000') can push a line past linewidth.
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(arr, indent, summarize, f_re, f_im):
    if arr.ndim == 0:
        return _fmt_value(arr.item(), f_re, f_im)
    if arr.ndim == 1:
        return _vector_str(arr, indent, summarize, f_re, f_im)
    edge, n = _OPTS["edgeitems"], arr.shape[0]

    def sub(i):
        return _nested_str(arr[i], indent + 1, summarize, f_re, f_im)

    if summarize and n > 2 * edge:
        parts = ([sub(i) for i in range(edge)] + ["..."]
                 + [sub(i) for i in range(n - edge, n)])
    else:
        parts = [sub(i) for i in range(n)]
    # Deeper blocks are separated by (ndim - 1) newlines, i.e. blank lines.
    sep = "," + "\n" * (arr.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(parts) + "]"


def _body_str(arr, kind, indent):
    if arr.size == 0:
        return "[]"
    summarize = arr.size > _OPTS["threshold"]
    edge = _OPTS["edgeitems"]
    shown = _summarized(arr, edge) if summarize else arr
    if kind == "complex":
        f_re = _Formatter(np.real(shown).reshape(-1), True)
        f_im = _Formatter(np.imag(shown).reshape(-1), True)
    else:
        f_re, f_im = _Formatter(shown.reshape(-1), kind == "float"), None
    return _nested_str(arr, indent, summarize, f_re, f_im)


def _add_suffixes(text, suffixes, indent):
    # torch measures the last line as its visible length + 2 and wraps a
    # suffix when that plus the suffix plus ", " exceeds linewidth.  After a
    # wrap it restarts the count without the +2; we keep that asymmetry.
    out = [text]
    last = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if last + len(s) + 2 > _OPTS["linewidth"]:
            out.append(",\n" + " " * indent + s)
            last = indent + len(s)
        else:
            out.append(", " + s)
            last += len(s) + 2
    out.append(")")
    return "".join(out)


def format_tensor(values, *, dtype_name, shape, default_float_dtype_name="float32",
                  device=None, requires_grad=False, grad_fn_name=None,
                  prefix="tensor(", is_parameter=False, no_data=False):
    """Return torch's repr of a tensor described by numpy ``values``.

    ``dtype_name`` is the torch dtype without 'torch.' (bfloat16 values may be
    passed as float32).  ``device`` None or 'cpu' prints no device suffix.
    ``no_data``: a meta tensor, printed as PyTorch does: `...` and its size.
    """
    if no_data:
        return _no_data_repr(dtype_name, shape, default_float_dtype_name, device,
                             requires_grad, grad_fn_name, prefix, is_parameter)
    dtype_name = _canonical(dtype_name)
    default = _canonical(default_float_dtype_name)
    kind = _kind(dtype_name)
    shape = tuple(int(d) for d in shape)

    arr = np.asarray(values)
    if kind == "float":
        arr = arr.astype(np.float64)  # exact for every float width we accept
    elif kind == "complex":
        arr = arr.astype(np.complex128)
    elif kind == "bool":
        arr = arr.astype(bool)
    arr = arr.reshape(shape)

    indent = len(prefix)
    suffixes = []
    if device is not None and str(device) != "cpu":
        suffixes.append(f"device='{device}'")

    size_str = "size=" + str(shape)
    if arr.size == 0:
        # numpy-style: the shape is shown unless it is plain (0,), and the
        # dtype is shown for everything but the default float dtype since
        # there are no elements to hint at it (so even int64 appears).
        if len(shape) != 1:
            suffixes.append(size_str)
        if dtype_name != default:
            suffixes.append("dtype=torch." + dtype_name)
        body = "[]"
    else:
        if not _OPTS["edgeitems"]:
            suffixes.append(size_str)
        # Only double promotes the default complex type; any other default
        # float dtype pairs with complex64.
        default_complex = "complex128" if default == "float64" else "complex64"
        if dtype_name not in (default, default_complex, "int64", "bool"):
            suffixes.append("dtype=torch." + dtype_name)
        body = _body_str(arr, kind, indent)
    return _finish_repr(prefix + body, suffixes, indent, requires_grad, grad_fn_name,
                        is_parameter)


def _no_data_repr(dtype_name, shape, default_float_dtype_name, device, requires_grad,
                  grad_fn_name, prefix, is_parameter):
    """A meta tensor's repr: like an empty tensor's, its size and (unless the default
    float type) its dtype always shown."""
    dtype_name = _canonical(dtype_name)
    suffixes = [f"device='{device}'", "size=" + str(tuple(int(d) for d in shape))]
    if dtype_name != _canonical(default_float_dtype_name):
        suffixes.append("dtype=torch." + dtype_name)
    return _finish_repr(prefix + "...", suffixes, len(prefix), requires_grad, grad_fn_name,
                        is_parameter)


def _finish_repr(text, suffixes, indent, requires_grad, grad_fn_name, is_parameter):
    """The suffixes' autograd part, joined to the rest; a Parameter's header."""
    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    text = _add_suffixes(text, suffixes, indent)
    if is_parameter:
        text = "Parameter containing:\n" + text
    return text
