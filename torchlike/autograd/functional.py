"""torch.autograd.functional on torchlike.func (JAX's transforms): jacobian, hessian,
vjp, jvp, hvp, vhp, with PyTorch's tuple conventions and errors.

Results are detached, as PyTorch's are with create_graph=False. With create_graph=True
the results must stay in the autograd graph, which JAX's transforms do not record into:
that path runs on torchlike.autograd.grad instead (_functional_graph.py)."""
import functools

import jax
import jax.extend

from .. import _func_tier
from .. import func as _func
from .._tensor import Tensor
from . import _functional_graph as _graph
from .grad_mode import no_grad

_STRATEGIES = ("forward-mode", "reverse-mode")


def _entry(fn):
    """An autograd.functional entry: PyTorch's runs on eager autograd, so a write into a
    captured tensor is allowed there unless it would keep a tracer (func.functional_api)."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        with _func.functional_api():
            return fn(*args, **kwargs)
    return run


def _inputs(inputs, fn_name):
    """(were a tuple, the inputs as a tuple), checked as PyTorch's _as_tuple and its
    requires_grad_ of each input do (an integer input cannot require grad)."""
    in_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    _func._check_float(inputs)
    return in_tuple, inputs


def _as_tuple(x, what, fn_name):
    """(was a tuple, the tensors as a tuple), with PyTorch's TypeError otherwise."""
    is_tuple = isinstance(x, tuple)
    items = x if is_tuple else (x,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            where = f"the value at index {i}" if is_tuple else f"the given {what}"
            raise TypeError(f"The {what} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but {where} has type {type(t)}.")
    return is_tuple, items


class _Outputs:
    """func's outputs as a tuple, remembering whether func returned a tuple (so the
    transforms run it at every call, not as a compiled program: _func_tier.py)."""
    _tier_key = _func_tier.EAGER

    def __init__(self, func, fn_name, strict):
        self.func, self.fn_name, self.strict = func, fn_name, strict
        self.is_tuple = None

    def __call__(self, *inputs):
        out = self.func(*inputs)
        self.is_tuple, outs = _as_tuple(out, "outputs of the user-provided function", self.fn_name)
        if self.strict:
            for i, o in enumerate(outs):
                if not isinstance(o.jax(), jax.core.Tracer):
                    raise RuntimeError(f"Output {i} of the user-provided function does not "
                                       "require gradients. The outputs must be computed in a "
                                       "differentiable manner from the input when running in "
                                       "strict mode.")
        return outs


# -- strict=True: which outputs depend on which inputs --------------------------------
_Literal = jax.extend.core.Literal
def _dependence(fn, inputs):
    """For each output of `fn` (tensors -> a tuple of tensors), the positions of the
    `inputs` it depends on differentiably: read off the jaxpr of its linearization
    (a path through detach() or an integer op carries no tangent)."""
    _, jvp_fn = _func.linearize(fn, *inputs)

    def tangent_map(*arrays):
        tangents = [Tensor._wrap(a, t.device) for a, t in zip(arrays, inputs)]
        return [o.jax() for o in jvp_fn(*tangents)]
    jaxpr = jax.make_jaxpr(tangent_map)(*[t.jax() for t in inputs]).jaxpr
    reach = {v: {j} for j, v in enumerate(jaxpr.invars)}
    for eqn in jaxpr.eqns:
        found = set()
        for v in eqn.invars:
            if not isinstance(v, _Literal):
                found |= reach.get(v, set())
        for v in eqn.outvars:
            reach[v] = found
    return [set() if isinstance(v, _Literal) else reach.get(v, set()) for v in jaxpr.outvars]


def _strict_message(kind, i, j=None):
    return {
        "output": f"Output {i} of the user-provided function is independent of input {j}. "
                  "This is not allowed in strict mode.",
        "input": f"The output of the user-provided function is independent of input {i}. "
                 "This is not allowed in strict mode.",
        "jacobian": "While computing the hessian, found that the jacobian of the "
                    f"user-provided function with respect to input {i} is independent of "
                    "the input. This is not allowed in strict mode. You should ensure that "
                    "your function is twice differentiable and that the jacobian depends on "
                    "the inputs (this would be violated by a linear function for example)."}[kind]


def _check_inputs_used(outs, inputs):
    """strict vjp/jvp/hvp/vhp: every input reaches some output."""
    used = set().union(*_dependence(outs, inputs))
    for j in range(len(inputs)):
        if j not in used:
            raise RuntimeError(_strict_message("input", j))


def _check_each_output_uses_each_input(outs, inputs):
    """strict jacobian (reverse mode): output i depends on input j, for every pair."""
    for i, used in enumerate(_dependence(outs, inputs)):
        for j in range(len(inputs)):
            if j not in used:
                raise RuntimeError(_strict_message("output", i, j))


def _check_second_order(func, inputs, fn_name):
    """strict hessian/hvp/vhp: the function uses every input, and its gradient with
    respect to each input depends on the inputs (not a linear function)."""
    scalar = _scalar(func, fn_name)
    _check_inputs_used(lambda *xs: (scalar(*xs),), inputs)
    grads = _func.grad(scalar, argnums=tuple(range(len(inputs))))
    for j, used in enumerate(_dependence(lambda *xs: tuple(grads(*xs)), inputs)):
        if not used:
            raise RuntimeError(_strict_message("jacobian", j))


def _check_v(v, like, like_is_tuple, fn_name):
    _, vs = _as_tuple(v, "v", fn_name)
    if len(vs) != len(like):
        if not like_is_tuple:
            raise RuntimeError("The given v should contain a single Tensor.")
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but got "
                           f"{len(vs)}.")
    for i, (a, b) in enumerate(zip(vs, like)):
        if tuple(a.shape) != tuple(b.shape):
            entry = f"Entry {i} in " if like_is_tuple else ""
            raise RuntimeError(f"{entry}v has invalid size: should be {_size(b.shape)} but got "
                               f"{_size(a.shape)}.")
    return tuple(vs)


def _size(shape):
    return f"torch.Size([{', '.join(str(n) for n in shape)}])"


def _single(items, is_tuple):
    return items if is_tuple else items[0]


@_entry
def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J) for each input."""
    in_tuple, inputs = _inputs(inputs, "vjp")
    outs = _Outputs(func, "vjp", strict and not create_graph)

    def make_v(out):
        if v is None:
            if len(out) != 1 or out[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the user-provided "
                                   "function returns a single Tensor with a single element.")
            return (out[0].new_ones(out[0].shape),)
        return _check_v(v, out, outs.is_tuple, "vjp")

    if create_graph:
        out, grads = _graph.vjp(outs, inputs, make_v)
    else:   # (results not recorded: without create_graph PyTorch detaches them)
        if strict:
            _check_inputs_used(outs, inputs)
        with no_grad():
            out, pullback = _func.vjp(outs, *inputs, _integer_outputs=True)
            grads = pullback(make_v(out))
    return _single(out, outs.is_tuple), _single(grads, in_tuple)


def _input_shaped_v(v, inputs, in_tuple, fn_name):
    """The checked vector v for jvp/hvp/vhp, which is shaped like the inputs; v=None
    stands for 1 when the input is a single one-element tensor."""
    if v is None:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the "
                               "user-provided function is a single Tensor with a single "
                               "element.")
        v = (inputs[0].new_ones(inputs[0].shape),)
    return _check_v(v, inputs, in_tuple, fn_name)


@_entry
def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v) for each output."""
    in_tuple, inputs = _inputs(inputs, "jvp")
    v = _input_shaped_v(v, inputs, in_tuple, "jvp")
    outs = _Outputs(func, "jvp", strict and not create_graph)
    if create_graph:
        out, tangents = _graph.jvp(outs, inputs, v)
    else:
        if strict:
            _check_inputs_used(outs, inputs)
            with no_grad():
                out, tangents = _func.jvp(outs, inputs, v)
            is_tuple = outs.is_tuple
        else:
            with no_grad():
                (out, tangents), is_tuple = _as_program(func, "jvp", _jvp_of)(inputs, v)
        return _single(out, is_tuple), _single(tangents, is_tuple)
    return _single(out, outs.is_tuple), _single(tangents, outs.is_tuple)


def _jvp_of(outs):
    return functools.partial(_func.jvp, outs)


def _check_jacobian_options(strategy, create_graph, strict, vectorize):
    """The combinations PyTorch's jacobian (and so hessian, its outer Jacobian) refuses."""
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either '
                'set `create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either '
                'set `strict=False` or `strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-"
                                      "reverse Hessian isonly implemented for `vectorize=True`.")
    elif vectorize and strict:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                           "`vectorized=True` are not supported together. Please either set "
                           "`strict=False` or `vectorize=False`.")


@_entry
def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """J[i][j] = d output_i / d input_j, unpacked as PyTorch does for non-tuples."""
    if strategy not in _STRATEGIES:
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                             "Hint: If your function has more outputs than inputs, "
                             '"forward-mode" tends to be more performant. Otherwise, prefer to '
                             'use "reverse-mode".')
    # (forward mode makes dual tensors: an integer input fails there, not as requires_grad)
    in_tuple, inputs = (_as_tuple(inputs, "inputs", "jacobian") if strategy == "forward-mode"
                        else _inputs(inputs, "jacobian"))
    _check_jacobian_options(strategy, create_graph, strict, vectorize)
    outs = _Outputs(func, "jacobian", strict and not create_graph)
    if create_graph:
        jac = _graph.jacobian(outs, inputs)
        return _single(tuple(_single(row, in_tuple) for row in jac), outs.is_tuple)
    api, jax_jac = ("jacfwd", jax.jacfwd) if strategy == "forward-mode" else ("jacrev", jax.jacrev)
    if strict:          # (reverse mode: forward mode refused it above)
        _check_each_output_uses_each_input(outs, inputs)
    with no_grad():     # (without create_graph PyTorch's Jacobian records no history)
        if strict:
            jac = _func._jacobian(jax_jac, api, outs, tuple(range(len(inputs))), False,
                                  functional=True)(*inputs)
            is_tuple = outs.is_tuple
        else:
            jac, is_tuple = _as_program(func, "jacobian", functools.partial(
                _func._jacobian, jax_jac, api, argnums=tuple(range(len(inputs))),
                has_aux=False, functional=True), api, len(inputs))(*inputs)
    # PyTorch's forward mode hands back lists where its reverse mode has tuples
    seq = list if strategy == "forward-mode" and in_tuple else tuple
    return _single(seq(_single(seq(row), in_tuple) for row in jac), is_tuple)


def _as_program(func, fn_name, transform, *options):
    """transform(func's outputs as a tuple) as a function of the inputs that also
    returns whether func returned a tuple, running as one compiled program
    (_func_tier.py: the flag is a constant of the trace, so a call that runs the
    program, and not func, still has it)."""
    def run(*args):
        outs = _Outputs(func, fn_name, False)
        result = transform(outs)(*args)
        return result, outs.is_tuple
    return _func_tier.transformed(func, run, ("autograd.functional", fn_name) + options)


def _scalar_output(out, fn_name):
    """The single element func returned, with PyTorch's checks."""
    is_tuple, outs = _as_tuple(out, "outputs of the user-provided function", fn_name)
    if is_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} "
                           "should contain a single element")
    return outs[0]


def _scalar(func, fn_name):
    """func as a function returning a 0-dim tensor (an integer one as the inputs' dtype:
    its derivatives are zeros of that dtype, as PyTorch's)."""
    def scalar(*inputs):
        out = _scalar_output(func(*inputs), fn_name).reshape(())
        return out if out.is_floating_point() or out.is_complex() else out.to(inputs[0].dtype)
    return scalar


@_entry
def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """H[i][j] = d2 func / d input_i d input_j."""
    if outer_jacobian_strategy not in _STRATEGIES:
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    in_tuple, inputs = _inputs(inputs, "hessian")
    _check_jacobian_options(outer_jacobian_strategy, create_graph, strict, vectorize)
    nums = tuple(range(len(inputs)))
    if create_graph:
        h = _graph.hessian(_scalar(func, "hessian"), inputs)
    else:
        if strict:
            _check_second_order(func, inputs, "hessian")
        with no_grad():     # (without create_graph PyTorch's Hessian records no history)
            h = _func.jacfwd(_func.jacrev(_scalar(func, "hessian"), nums), nums)(*inputs)
    return _single(tuple(_single(row, in_tuple) for row in h), in_tuple)


def _product(func, inputs, v, fn_name, reverse, create_graph, strict):
    """(func(inputs), H v) or (func(inputs), v^T H)."""
    in_tuple, inputs = _inputs(inputs, fn_name)
    if strict and not create_graph:
        _check_second_order(func, inputs, fn_name)
    with no_grad():
        out = _scalar_output(func(*inputs), fn_name).detach()
    v = _input_shaped_v(v, inputs, in_tuple, fn_name)
    if create_graph:
        out, product = _graph.hessian_product(lambda *xs: _scalar_output(func(*xs), fn_name),
                                              inputs, v)
        return out, _single(product, in_tuple)
    grads = _func.grad(_scalar(func, fn_name), argnums=tuple(range(len(inputs))))
    with no_grad():
        product = (_func.vjp(grads, *inputs)[1](v) if reverse
                   else _func.jvp(grads, inputs, v)[1])
    return out, _single(product, in_tuple)


@_entry
def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v)."""
    return _product(func, inputs, v, "hvp", False, create_graph, strict)


@_entry
def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H)."""
    return _product(func, inputs, v, "vhp", True, create_graph, strict)
