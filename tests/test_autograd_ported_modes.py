"""Grad modes and inference tensors, ported from PyTorch's test/test_autograd.py
(TestAutograd and TestAutogradInferenceMode; each case names its test)."""
import pytest

from autograd_port import Behaviours, attempt, warned

pytestmark = pytest.mark.usefixtures("oracle")
cases = Behaviours()


@cases.add("test_no_grad")
def _(lib):
    x = lib.ones(5, 5, requires_grad=True)
    y = lib.ones(5, 5) * 4
    with lib.no_grad():
        w = x + y

    def adder(x, y):
        return x + y
    adders = [lib.no_grad()(adder), lib.no_grad(adder)]
    z = [a(x, y) for a in adders]
    return w.requires_grad, w.grad_fn, [t.requires_grad for t in z], lib.is_grad_enabled()


@cases.add("test_enable_grad_decorator_no_paren")
def _(lib):
    x = lib.ones(1, requires_grad=True)

    @lib.enable_grad
    def doubler(x):
        return x * 2
    with lib.no_grad():
        z = doubler(x)
    return z.requires_grad


@cases.add("test_set_grad_generator_functions")
def _(lib):
    @lib.no_grad()
    def gen_no_grad():
        for i in range(3):
            yield lib.is_grad_enabled()
    out = []
    with lib.enable_grad():
        for flag in gen_no_grad():
            out.append((flag, lib.is_grad_enabled()))
    return out


@cases.add("test_no_grad_class_decorator")
def _(lib):
    def decorate():
        @lib.no_grad()
        class Foo:
            pass
        return Foo
    return warned(lib, lambda: type(decorate()).__name__)


@cases.add("test_set_grad_enabled")
def _(lib):
    x = lib.tensor([1.0], requires_grad=True)
    with lib.set_grad_enabled(False):
        y = x * 2
    first = y.requires_grad
    with lib.set_grad_enabled(True):
        y = x * 2
    second = y.requires_grad
    with lib.set_grad_enabled(False):
        lib.set_grad_enabled(True)
        y = x * 2
    return first, second, y.requires_grad, lib.is_grad_enabled()


@cases.add("test_set_grad_enabled_function_call")
def _(lib):
    lib.set_grad_enabled(False)
    inside = lib.is_grad_enabled()
    lib.set_grad_enabled(True)
    return inside, lib.is_grad_enabled()


@cases.add("test_set_grad_enabled_decorator")
def _(lib):
    @lib.set_grad_enabled(False)
    def f():
        return lib.is_grad_enabled()
    return lib.is_grad_enabled(), f(), lib.is_grad_enabled()


@cases.add("test_set_grad_enabled_clone")
def _(lib):
    ctx = lib.set_grad_enabled(False)
    after_construction = lib.is_grad_enabled()
    clone = ctx.clone()
    lib.set_grad_enabled(True)
    with clone:
        inside = lib.is_grad_enabled()
    return after_construction, inside, lib.is_grad_enabled()


@cases.add("test_grad_mode_exception_restores")
def _(lib):
    try:
        with lib.no_grad():
            raise ValueError("x")
    except ValueError:
        pass
    return lib.is_grad_enabled()


@cases.add("test_requires_grad_under_no_grad")
def _(lib):
    with lib.no_grad():
        x = lib.ones(2, requires_grad=True)
        y = x * 2
    return x.requires_grad, y.requires_grad


@cases.add("test_no_grad_modifies_version")
def _(lib):
    x = lib.ones(5, requires_grad=True)
    y = lib.ones(5, requires_grad=True)
    z = (x * y).sum()
    with lib.no_grad():
        x *= 2
    return attempt(lambda: z.backward())


@cases.add("test_no_grad_assignment")
def _(lib):
    x = lib.ones(5, 5, requires_grad=True)
    y = lib.ones(5) * 4
    with lib.no_grad():
        x[0] = y
    return x.requires_grad, x.grad_fn, x


# -- inference mode ---------------------------------------------------------------------
@cases.add("test_inference_mode_context_manager")
def _(lib):
    out = [lib.is_inference_mode_enabled()]
    with lib.inference_mode():
        out.append(lib.is_inference_mode_enabled())
        with lib.inference_mode(False):
            out.append(lib.is_inference_mode_enabled())
        out.append(lib.is_inference_mode_enabled())
    out.append(lib.is_inference_mode_enabled())
    return out


@cases.add("test_inference_mode_decorator")
def _(lib):
    @lib.inference_mode()
    def func(x):
        return x * x, lib.is_inference_mode_enabled()

    @lib.inference_mode
    def func2(x):
        return x * x
    x = lib.ones(2, requires_grad=True)
    y, inside = func(x)
    return inside, y.requires_grad, lib.is_inference(y), lib.is_inference(func2(x))


@cases.add("test_inference_mode_tensor_creation")
def _(lib):
    with lib.inference_mode():
        c = lib.ones(1, 2, 3)
        d = lib.ones(1, 2, 3, requires_grad=True)
    return c.requires_grad, lib.is_inference(c), d.requires_grad, d.is_inference()


@cases.add("test_inference_mode_existing_autograd_session")
def _(lib):
    s = lib.ones(1, 2, 3, requires_grad=True)
    a = s.clone()
    out = a * a
    with lib.inference_mode():
        a.add_(2)
    return attempt(lambda: out.backward(lib.ones_like(out)))


@cases.add("test_inference_mode_inf_tensor_in_inf_mode_functional_op")
def _(lib):
    with lib.inference_mode():
        c = lib.ones(1, 2, 3, requires_grad=True)
        func_out = c * c
    return func_out.requires_grad, lib.is_inference(func_out)


@cases.add("test_inference_mode_inf_tensor_in_normal_mode_inplace_op")
def _(lib):
    with lib.inference_mode():
        c = lib.ones(1, 2, 3)
    return attempt(lambda: c.add_(1))


@cases.add("test_inference_mode_inf_tensor_in_normal_mode_functional_op")
def _(lib):
    with lib.inference_mode():
        c = lib.ones(1, 2, 3)
    out = c + 1
    return lib.is_inference(out), out.requires_grad


@cases.add("test_inference_mode_inf_tensor_version")
def _(lib):
    with lib.inference_mode():
        c = lib.ones(1, 2, 3)
    return attempt(lambda: c._version)


@cases.add("test_inference_mode_inf_tensor_saved_for_backward")
def _(lib):
    with lib.inference_mode():
        c = lib.ones(1, 2, 3)
    x = lib.ones(1, 2, 3, requires_grad=True)
    return attempt(lambda: x * c)


@cases.add("test_inference_mode_inf_tensor_added_no_save")
def _(lib):
    with lib.inference_mode():
        c = lib.ones(2)
    x = lib.ones(2, requires_grad=True)
    y = x + c                          # add saves neither input
    y.sum().backward()
    return y, x.grad


@cases.add("test_inference_mode_inf_tensor_view_in_normal_mode")
def _(lib):
    with lib.inference_mode():
        c = lib.ones(2, 3)
    v = c.view(3, 2)
    return lib.is_inference(v), v


@cases.add("test_inference_mode_normal_tensor_view_in_inference_mode_inplace")
def _(lib):
    a = lib.ones(2, 3, requires_grad=True).clone()
    with lib.inference_mode():
        v = a.view(3, 2)
    return lib.is_inference(v), attempt(lambda: v.add_(1))


@cases.add("test_inference_mode_requires_grad_inf_tensor")
def _(lib):
    with lib.inference_mode():
        c = lib.ones(2)
    return attempt(lambda: c.requires_grad_())


@cases.add("test_inference_mode_is_inference_normal_tensor")
def _(lib):
    a = lib.ones(2)
    with lib.inference_mode():
        b = a.clone()
    return a.is_inference(), b.is_inference()


@cases.add("test_inference_mode_inplace_in_inference_mode")
def _(lib):
    with lib.inference_mode():
        c = lib.ones(2)
        c.add_(1)
    return c


@cases.add("test_inference_mode_normal_tensor_inplace_in_inference_mode")
def _(lib):
    a = lib.ones(2)
    v0 = a._version
    with lib.inference_mode():
        a.add_(1)
    return a._version - v0, lib.is_inference(a)


@cases.add("test_inference_mode_disabled_is_grad_mode")
def _(lib):
    with lib.inference_mode(False):
        return lib.is_grad_enabled(), lib.is_inference_mode_enabled()


@cases.add("test_inference_mode_restores_grad_mode")
def _(lib):
    with lib.no_grad():
        with lib.inference_mode():
            pass
        inside = lib.is_grad_enabled()
    return inside, lib.is_grad_enabled()


@cases.add("test_inference_mode_detach_of_inference_tensor")
def _(lib):
    with lib.inference_mode():
        c = lib.ones(2)
    return lib.is_inference(c.detach()), lib.is_inference(c.clone())


@pytest.mark.parametrize("name", cases.params())
def test_ported(name):
    cases.check(name, )
