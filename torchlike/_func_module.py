"""torch.func.functional_call and stack_module_state: a module run with parameters
and buffers passed in (torchlike Tensors, or jax.Arrays from JAX code)."""
import jax

from . import _jax_bridge as bridge
from ._tensor import Tensor


def _as_tensor(value, device):
    if isinstance(value, (jax.Array, jax.core.Tracer)) and not isinstance(value, Tensor):
        return bridge.wrap(value, device)
    return value


def _merge(parameter_and_buffer_dicts):
    if isinstance(parameter_and_buffer_dicts, dict):
        return dict(parameter_and_buffer_dicts)
    merged = {}
    for d in parameter_and_buffer_dicts:
        repeated = [k for k in d if k in merged]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                             "functional call is ambiguous")
        merged.update(d)
    return merged


def _slot(module, name):
    """(the dict holding `name`'s tensor, its key) in the submodule that owns it."""
    path, _, leaf = name.rpartition(".")
    owner = module.get_submodule(path) if path else module
    for store in ("_parameters", "_buffers"):
        if leaf in owner.__dict__[store]:
            return owner.__dict__[store], leaf
    return owner.__dict__, leaf


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """torch.func.functional_call: module(*args, **kwargs) with its parameters and
    buffers replaced by the given ones for the duration of the call."""
    values = _merge(parameter_and_buffer_dicts)
    names = {}          # id of a module tensor -> every name it has (tied weights)
    for name, t in list(module.named_parameters(remove_duplicate=False)) + \
            list(module.named_buffers(remove_duplicate=False)):
        names.setdefault(id(t), []).append(name)
    if strict:
        known = {n for group in names.values() for n in group}
        unexpected = sorted(set(values) - known)
        missing = sorted(known - set(values))
        if unexpected or missing:
            lines = [f"Error(s) in reparametrizing for {module._get_name()}:"]
            if unexpected:
                lines.append("\tUnexpected key(s): " + ", ".join(f"'{k}'" for k in unexpected)
                             + ".")
            if missing:
                lines.append("\tMissing key(s): " + ", ".join(f"'{k}'" for k in missing) + ".")
            raise RuntimeError("\n".join(lines))
    if tie_weights:
        for group in names.values():
            given = [n for n in group if n in values]
            if len({id(values[n]) for n in given}) > 1:
                raise ValueError(f"functional_call got multiple values for keys {given}, "
                                 "which are tied. Consider using tie_weights=False")
            for n in group:
                if given and n not in values:
                    values[n] = values[given[0]]
    device = next((p.device for p in module.parameters()), None)
    saved = []
    try:
        for name, value in values.items():
            if not isinstance(value, (Tensor, jax.Array, jax.core.Tracer)):
                raise TypeError(f"{value} is not an instance of torch.Tensor")
            store, key = _slot(module, name)
            saved.append((store, key, key in store, store.get(key)))
            store[key] = _as_tensor(value, device)
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for store, key, present, old in reversed(saved):
            if present:
                store[key] = old
            else:
                del store[key]


def stack_module_state(models):
    """torch.func.stack_module_state: (params, buffers), each name's tensors of every
    model stacked on a new leading dim; the stacked parameters are leaves."""
    from ._ops.shape import stack
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or not any(m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    first = type(models[0])
    if not all(type(m) is first for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(named):
        return {name: stack([dict(named(m))[name].detach() for m in models])
                for name, _ in named(models[0])}

    params = stacked(lambda m: m.named_parameters())
    for name, p in params.items():
        p.requires_grad_(all(dict(m.named_parameters())[name].requires_grad for m in models))
    return params, stacked(lambda m: m.named_buffers())


def replace_all_batch_norm_modules_(root):
    """torch.func.replace_all_batch_norm_modules_: every BatchNorm in `root` stops
    tracking running statistics (they are dropped), so that it can run under vmap
    without writing into buffers. Changes `root` in place and returns it."""
    from .nn.modules.normalization import _BatchNorm
    for module in root.modules():
        if isinstance(module, _BatchNorm):
            module.running_mean = module.running_var = module.num_batches_tracked = None
            module.track_running_stats = False
    return root
