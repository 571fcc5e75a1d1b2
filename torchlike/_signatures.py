"""Real signatures and docstrings for the functions the op table generates.

Functions built by the op table accept `(*args, out=None, **kwargs)` and carry no text, so
`inspect.signature` and `help()` would show nothing useful. `apply()` (run at the end of
`import torchlike`) gives each such public function and Tensor method PyTorch's documented
signature from `_signature_table.SIGNATURES` and, where it has no docstring, one generated
from the table: the signature line, which variants exist (function, Tensor method, in-place
form) and a link to PyTorch's page. A function written with its own named parameters keeps
its own signature; tests/test_signatures.py compares both kinds with PyTorch's.

The table holds facts only (parameter names, kinds, defaults). It is generated from the
installed PyTorch by `python -m torchlike._signatures > torchlike/_signature_table.py`
(PyTorch's Python signature where it has one, else the first line of its docstring, else
its ATen schema).
"""
import inspect

_KINDS = {"p": inspect.Parameter.POSITIONAL_OR_KEYWORD, "k": inspect.Parameter.KEYWORD_ONLY,
          "v": inspect.Parameter.VAR_POSITIONAL, "o": inspect.Parameter.POSITIONAL_ONLY,
          "w": inspect.Parameter.VAR_KEYWORD}
_CODES = {kind: code for code, kind in _KINDS.items()}
_NO_DEFAULT = inspect.Parameter.empty


class _Default:
    """A default value shown as PyTorch documents it (`torch.strided`, `None`, `1`)."""
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def _signature(entry):
    """entry: ((name, kind code, default text or None), ...) -> inspect.Signature."""
    return inspect.Signature([
        inspect.Parameter(name, _KINDS[code],
                          default=_NO_DEFAULT if default is None else _Default(default))
        for name, code, default in entry])


def _is_generic(fn):
    """True for the op table's catch-all wrappers: (*args, **kwargs), possibly after self."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return True
    kinds = {p.kind for p in params}
    return inspect.Parameter.VAR_POSITIONAL in kinds and inspect.Parameter.VAR_KEYWORD in kinds \
        and len(params) - 2 <= 1


_DOCS_URL = "https://docs.pytorch.org/docs/stable/generated/{}.html"


def _docstring(qualified, signature, variants):
    lines = [f"{qualified.rsplit('.', 1)[-1]}{signature}", "",
             f"torchlike's ``{qualified}``, running on JAX: arguments, results, dtypes,",
             "gradients and errors follow PyTorch 2.13's."]
    if variants:
        lines += ["", "Also available as " + ", ".join(f"``{v}``" for v in variants) + "."]
    lines += ["", "PyTorch's documentation: " + _DOCS_URL.format(qualified)]
    return "\n".join(lines)


# PyTorch namespace -> torchlike attribute path: where public functions and classes get
# their generated docstrings (signatures come from the table, which covers functions)
_NAMESPACES = ("", "nn", "nn.functional", "nn.init", "nn.utils", "optim", "optim.lr_scheduler",
               "utils.data", "linalg", "fft", "special", "autograd", "distributions", "cuda",
               "amp", "testing", "multiprocessing")


def _targets():
    """(qualified PyTorch name, namespace object, attribute name, is a Tensor method) of the
    public functions and classes torchlike defines."""
    import importlib
    import torchlike
    for dotted in _NAMESPACES:
        namespace = importlib.import_module("torchlike" + ("." + dotted if dotted else ""))
        prefix = "torch" + ("." + dotted if dotted else "")
        for name in dir(namespace):
            obj = getattr(namespace, name, None)
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if (getattr(obj, "__module__", None) or "").startswith("torchlike"):
                yield f"{prefix}.{name}", namespace, name, False
    for name, obj in vars(torchlike.Tensor).items():
        if not name.startswith("_") and inspect.isfunction(obj):
            yield f"torch.Tensor.{name}", torchlike.Tensor, name, True


def _variants(qualified, name, is_method):
    import torchlike
    found = []
    if is_method and inspect.isfunction(getattr(torchlike, name, None)):
        found.append(f"torch.{name}")
    if qualified == f"torch.{name}":
        found += [f"Tensor.{n}" for n in (name, name + "_")
                  if inspect.isfunction(vars(torchlike.Tensor).get(n))]
    return found


def apply():
    from ._signature_table import SIGNATURES
    seen = set()
    for qualified, namespace, name, is_method in _targets():
        fn = getattr(namespace, name)
        if id(fn) in seen:
            continue                # one object under two names: the first name wins
        seen.add(id(fn))
        entry = SIGNATURES.get(qualified)
        if entry is not None and inspect.isfunction(fn) and _is_generic(fn):
            if is_method:
                entry = (("self", "p", None),) + entry
            fn.__signature__ = _signature(entry)
        if "<locals>" in getattr(fn, "__qualname__", ""):
            fn.__qualname__ = name          # repr() and help() name the op, not its factory
        if not (fn.__doc__ or "").strip():
            try:
                shown = str(inspect.signature(fn))
            except (TypeError, ValueError):
                shown = "(...)"
            fn.__doc__ = _docstring(qualified, shown, _variants(qualified, name, is_method))


# -- generating the table from the installed PyTorch (development only) -------------------
def _documented(obj, qualified):
    """The parameter list of the first docstring line `name(...)`, or None."""
    doc = (getattr(obj, "__doc__", None) or "").replace("\\*", "*")
    name, short = qualified.rsplit(".", 1)[-1], qualified[len("torch."):]
    for line in doc.strip().splitlines()[:3]:
        line = line.strip()
        for prefix in (name + "(", short + "(", qualified + "(", "Tensor." + name + "("):
            if line.startswith(prefix):
                depth, start = 0, len(prefix) - 1
                for i in range(start, len(line)):
                    depth += {"(": 1, ")": -1}.get(line[i], 0)
                    if depth == 0:
                        return line[start + 1:i]
    return None


def _from_source(params_text):
    import ast
    text = params_text.replace("*size, *,", "*size,").replace("*tensors, *,", "*tensors,")
    text = text.replace("*, *,", "*,").replace("...", "")
    args = ast.parse(f"def f({text}): pass").body[0].args
    out = []
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for arg, default in zip(positional, defaults):
        kind = "o" if arg in args.posonlyargs else "p"
        out.append((arg.arg, kind, None if default is None else ast.unparse(default)))
    if args.vararg:
        out.append((args.vararg.arg, "v", None))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        out.append((arg.arg, "k", None if default is None else ast.unparse(default)))
    if args.kwarg:
        out.append((args.kwarg.arg, "w", None))
    return tuple(out)


def _from_schema(qualified):
    """ATen's schema of the op's first overload, types stripped, self -> input."""
    import re
    import torch
    name = qualified.rsplit(".", 1)[-1]
    schemas = torch._C._jit_get_schemas_for_operator(f"aten::{name}")
    if not schemas:
        return None
    out, keyword = [], False
    for arg in schemas[0].arguments:
        if arg.kwarg_only and not keyword:
            keyword = True
        default = None
        if arg.has_default_value():
            default = re.sub(r"^\[\]$", "None", repr(arg.default_value))
        out.append(("input" if arg.name == "self" else arg.name, "k" if keyword else "p",
                    default))
    return tuple(out)


def _torch_signature(qualified):
    import torch
    obj = torch
    for part in qualified.split(".")[1:]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    is_method = qualified.startswith("torch.Tensor.")
    try:
        sig = inspect.signature(obj)
        entry = tuple((p.name, _CODES[p.kind], None if p.default is _NO_DEFAULT
                       else _default_text(p.default)) for p in sig.parameters.values())
        return entry[1:] if is_method and entry and entry[0][0] == "self" else entry
    except (TypeError, ValueError):
        pass
    text = _documented(obj, qualified)
    if text is not None:
        try:
            return _from_source(text)
        except SyntaxError:
            pass
    # ATen's op of the same name is the function only at the top level (aten::norm is
    # torch.norm, not torch.linalg.norm)
    return _from_schema(qualified) if qualified.count(".") == 1 else None


def _default_text(value):
    """repr of a default, without a process-specific address (a default Generator)."""
    import re
    text = repr(value)
    return re.sub(r"^<([\w.]+) object at 0x[0-9a-f]+>$", r"\1()", text)


def generate():
    lines = ['"""Generated by `python -m torchlike._signatures` from PyTorch 2.13 (see',
             '_signatures.py): public name -> ((parameter, kind, default), ...), kinds p',
             'positional-or-keyword, k keyword-only, v *args, o positional-only, w **kwargs;',
             'Tensor methods without `self`."""', "SIGNATURES = {"]
    for qualified in sorted({q for q, namespace, name, _ in _targets()
                             if inspect.isfunction(getattr(namespace, name))}):
        entry = _torch_signature(qualified)
        if entry is not None:
            lines.append(f"    {qualified!r}: {entry!r},")
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys
    sys.stdout.write(generate())
