"""`.item()` (and an integer tensor's `.tolist()`) inside torchlike.compile, as
PyTorch 2.13 captures them (issue 10).

With fullgraph=True (or `_dynamo.config.capture_scalar_outputs`), PyTorch's compiler
does not break the graph at `.item()`: the number becomes a symbol that arithmetic,
tensor ops and factories take, and that the compiled function returns as a Python
number; only a Python branch on it raises (its UserError). torchlike carries the
number's traced value through the program (torchlike/_symbolic.py). Each case runs
under torch.compile (backend="eager": the same capture, no C++ toolchain) and
torchlike.compile, and the results are compared, Python types included.
"""
import math

import numpy as np
import pytest

import torchlike
from helpers import float_tol, normwise_tol, to_numpy

torch = pytest.importorskip("torch")


@pytest.fixture
def capturing(request):
    """capture_scalar_outputs set in both libraries for the test (their config modules'
    own patch(): pytest's monkeypatch cannot put PyTorch's back)."""
    flag = getattr(request, "param", True)
    with torch._dynamo.config.patch(capture_scalar_outputs=flag), \
            torchlike._dynamo.config.patch(capture_scalar_outputs=flag):
        yield flag


def _cases(lib):
    def scaled(x):
        s = x.sum().item()
        return x * s, s * x, x / s, s / (x + 1), x ** s, x - s

    def returned(x):
        return x.sum().item(), x.long().sum().item(), (x > 0).all().item()

    def arithmetic(x):
        s = x.sum().item()
        n = x.long().sum().item()
        return (x * (s + 1.5) + s * 2, s ** 2, 2 ** s, s // 2, s % 2, -s, abs(-s),
                n * 2, n / 2, n // 2, n % 2, n ** 2, x * n, x * math.floor(s / 2),
                x * round(s))

    def factories(x):
        s = x.max().item()
        return (lib.full((2,), s), lib.full_like(x, s), x.new_full((2,), s),
                x.clone().fill_(s), lib.tensor([s, 2.0]), x.new_tensor([s, 1.0]),
                lib.tensor(s))

    def as_operands(x):
        s = x.sum().item()
        return (x.clamp(max=s - 2), x.clamp(min=s), lib.where(x > 1, s, x),
                x.masked_fill(x > 1, s), lib.add(x, s, alpha=2))

    def integer_tensor(x):
        n = x.long().sum().item()
        b = (x > 1).any().item()
        i = x.long()
        return i * n, i + n, i // n, x * b

    def compared(x):
        s = x.sum().item()
        return s > 1, s == 3.0, (s > 1) & (s < 2), x * (s > 1)

    def listed(x):          # an integer tensor's tolist(): a list of its numbers
        a, b, c = x.long().tolist()
        return (x * a + b, c, [v * 2 for v in x.long().tolist()],
                (x.long() + 1).view(3, 1).tolist())
    return [scaled, returned, arithmetic, factories, as_operands, integer_tensor, compared,
            listed]


def _assert_results_equal(ours, theirs):
    assert type(ours) is type(theirs) or (
        isinstance(ours, torchlike.Tensor) and isinstance(theirs, torch.Tensor))
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_results_equal(a, b)
    elif isinstance(theirs, torch.Tensor):
        assert str(ours.dtype) == str(theirs.dtype)
        assert ours.shape == theirs.shape
        # (a pow or a few roundings: the symbol is kept in float64, as a Python float)
        np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs),
                                   **float_tol("float32", steps=8))
    else:
        # (float64 arithmetic on exact inputs, a pow at most: 4 steps of float64)
        assert ours == pytest.approx(theirs, rel=float_tol("float64", steps=4)["rtol"])


@pytest.mark.parametrize("case", range(len(_cases(torch))))
@pytest.mark.parametrize("fullgraph, capturing", [(True, False), (False, True)],
                         indirect=["capturing"])
def test_item_in_a_compiled_function_gives_torchs_results(case, fullgraph, capturing):
    """fullgraph=True captures .item() (PyTorch 2.13); so does fullgraph=False with
    capture_scalar_outputs; the second call runs the compiled program again."""
    x = np.array([0.0, 1.0, 2.0], np.float32)
    want = torch.compile(_cases(torch)[case], fullgraph=fullgraph,
                         backend="eager")(torch.tensor(x))
    torchlike._dynamo.utils.counters.clear()
    compiled = torchlike.compile(_cases(torchlike)[case], fullgraph=fullgraph)
    for _ in range(2):
        _assert_results_equal(compiled(torchlike.tensor(x)), want)
    assert not torchlike._dynamo.utils.counters["graph_break"]
    assert torchlike._dynamo.utils.counters["stats"]["unique_graphs"] == 1


def _default_mode_cases(lib):
    """Functions whose .item() PyTorch breaks the graph at (the default settings): the
    first two keep the number in the program here, the others need it in Python."""
    def returned(x):
        return x * x.sum().item(), (x * 2).sum().item()

    def typed(x):
        s = x.sum().item()
        return x * (s if isinstance(s, float) else 0.0)

    def branch(x):
        return x + 1 if x.sum().item() > 0 else x - 1

    def numpy_check(x):
        s = x.sum().item()
        return x * 2 if np.isfinite(s) else x

    def kept(x, seen=[]):       # noqa: B006 (the list kept across calls is the point)
        seen.append(x.max().item())
        return x * len(seen)

    def formatted(x):
        return x * len(f"{x.sum().item():.2f}")
    return [returned, typed, branch, numpy_check, kept, formatted]


@pytest.mark.parametrize("case", range(6))
def test_default_mode_gives_torchs_results_and_break_counts(case):
    """fullgraph=False, capture_scalar_outputs off: PyTorch breaks at .item(). Here the
    number stays in the program while nothing needs it in Python (one program a call,
    no split); otherwise the function is traced again with PyTorch's break there. Either
    way: torch's results, and its break reasons in the counters."""
    counters = [torchlike._dynamo.utils.counters, torch._dynamo.utils.counters]
    for c in counters:
        c.clear()
    ours = torchlike.compile(_default_mode_cases(torchlike)[case])
    theirs = torch.compile(_default_mode_cases(torch)[case], backend="eager")
    for sign in (1.0, -1.0, 2.0):
        x = np.array([sign, 2.0], np.float32)
        _assert_results_equal(ours(torchlike.tensor(x)), theirs(torch.tensor(x)))
    assert set(counters[0]["graph_break"]) == {
        k.splitlines()[0] for k in counters[1]["graph_break"]}
    if case < 2:
        assert counters[0]["stats"]["split_prefix_runs"] == 0


def _branch(x):
    s = x.sum().item()
    if s > 0:
        return x + 1
    return x - 1


def test_a_branch_on_an_item_raises_torchs_user_error_with_fullgraph():
    with pytest.raises(torch._dynamo.exc.UserError) as want:
        torch.compile(_branch, fullgraph=True, backend="eager")(torch.ones(3))
    with pytest.raises(torchlike._dynamo.exc.UserError) as got:
        torchlike.compile(_branch, fullgraph=True)(torchlike.ones(3))
    prefix = "Consider annotating your code using torch._check*(). Could not guard on " \
             "data-dependent expression"
    assert str(want.value).startswith(prefix) and str(got.value).startswith(prefix)
    assert issubclass(torchlike._dynamo.exc.UserError, torchlike._dynamo.exc.TorchDynamoException)


def test_a_branch_on_a_captured_item_splits_without_fullgraph(capturing):
    """capture_scalar_outputs with fullgraph=False: PyTorch takes the branch; here the
    function splits at it (the rest runs eagerly with the value): the same result."""
    for sign in (1.0, -1.0):
        want = torch.compile(_branch, backend="eager")(torch.full((3,), sign))
        got = torchlike.compile(_branch)(torchlike.full((3,), sign))
        np.testing.assert_array_equal(to_numpy(got), to_numpy(want))


def _model(lib, weights):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 3))
    with lib.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(lib.tensor(w))
    return model


def _train(lib, compiled, steps=4):
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(s).astype(np.float32) * 0.5
               for s in ((8, 4), (8,), (3, 8), (3,))]
    model = _model(lib, weights)
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = lib.tensor(rng.standard_normal((16, 4)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 3, 16))
    record = type("Record", (), {})()
    record.loss = 0.0

    def step(x, y):
        opt.zero_grad()
        out = model(x)
        loss = lib.nn.functional.cross_entropy(out, y)
        loss.backward()
        opt.step()
        record.loss = loss.item()        # (an attribute: set after each call)
        correct = (out.argmax(1) == y).sum().item()
        return loss.item(), correct
    f = lib.compile(step, fullgraph=True) if compiled else step
    results = []
    for _ in range(steps):
        results.append(f(x, y))
        assert record.loss == results[-1][0]
    return results, [p.detach() for p in model.parameters()]


def test_a_training_step_returns_its_loss_item_from_one_program():
    """The common case: a compiled step that returns `loss.item()` (and a count of
    correct predictions) and keeps the loss on an attribute. PyTorch's fullgraph mode
    cannot trace its optimizer's zero_grad, so the reference is eager torch."""
    torchlike._dynamo.utils.counters.clear()
    (ours, params), (eager, _) = _train(torchlike, True), _train(torchlike, False)
    theirs, torch_params = _train(torch, False)
    for (loss, correct), (want_loss, want_correct) in zip(ours, theirs):
        assert type(loss) is float and type(correct) is int
        assert correct == want_correct
        assert loss == pytest.approx(want_loss, rel=float_tol("float32", steps=256)["rtol"])
    assert [c for _, c in ours] == [c for _, c in eager]
    for p, q in zip(params, torch_params):
        np.testing.assert_allclose(to_numpy(p), to_numpy(q),
                                   **normwise_tol("float32", 256, to_numpy(q)))
    # one program: the first trace takes the attribute's number as a guard, like every
    # Python number the function reaches; it sets it to an .item(), so the attribute is
    # an input of the program instead (read or not), and the trace is redone at once
    assert torchlike._dynamo.utils.counters["stats"]["unique_graphs"] == 1
    assert not torchlike._dynamo.utils.counters["graph_break"]


def test_a_number_kept_across_calls_accumulates_in_the_program():
    """`self.total += loss.item()`: the attribute's old value is read each call (an
    input of the program once a trace set it to an .item()), so the running sum is
    right at every call, without a trace per call."""
    class Meter:
        def __init__(self, lib):
            self.total, self.count, self.w = 0.0, 0, lib.tensor([1.0, 2.0])

        def update(self, x):
            self.total += (self.w * x).sum().item()
            self.count += (x > 0).sum().item()
            return self.total
    sums = []
    for lib in (torch, torchlike):
        meter = Meter(lib)
        f = torchlike.compile(meter.update, fullgraph=True) if lib is torchlike \
            else meter.update
        torchlike._dynamo.utils.counters.clear()
        got = [f(lib.tensor([float(k), -1.0])) for k in range(6)]
        sums.append((got, meter.total, meter.count))
    assert sums[1] == sums[0]
    assert torchlike._dynamo.utils.counters["stats"]["unique_graphs"] == 1


def test_an_item_carries_no_gradient_out_of_a_compiled_forward():
    """item() leaves the autograd graph: in a compiled forward that is a node of the
    graph, `x * x.sum().item()` differentiates as x times a constant, as in torch."""
    def f(x):
        return x * x.sum().item()
    x = np.array([1.0, 2.0, 3.0], np.float32)
    ours = torchlike.tensor(x, requires_grad=True)
    torchlike.compile(f, fullgraph=True)(ours).sum().backward()
    theirs = torch.tensor(x, requires_grad=True)
    torch.compile(f, fullgraph=True, backend="eager")(theirs).sum().backward()
    np.testing.assert_array_equal(to_numpy(ours.grad), to_numpy(theirs.grad))


def test_a_python_conversion_of_a_captured_item_needs_its_value():
    """int()/float()/format() of the symbol needs a Python value that one XLA program
    does not have (PyTorch specializes or keeps them symbolic; Python's protocols here
    must return a real number): with fullgraph=True, Unsupported naming it; without
    fullgraph, the function splits there and gives the eager result."""
    def f(x):
        return x * int(x.sum().item())
    with pytest.raises(torchlike._dynamo.exc.Unsupported,
                       match="Symbolic value converted to a Python number"):
        torchlike.compile(f, fullgraph=True)(torchlike.ones(3))
    with torchlike._dynamo.config.patch(capture_scalar_outputs=True):
        got = torchlike.compile(f)(torchlike.ones(3))
    np.testing.assert_array_equal(to_numpy(got), [3.0, 3.0, 3.0])


def _appending(lib, losses):
    def f(x):
        s = (x * x).sum().item()
        losses.append(s)
        return x * 2
    return f


def test_an_item_appended_to_a_list_is_appended_at_every_call(capturing):
    """With capture and fullgraph=False, a number kept outside the results (appended to
    a list) cannot come from the program: that guard runs eagerly (the trace's append
    undone), so every call appends the number, as PyTorch's."""
    seen = {}
    for lib in (torch, torchlike):
        losses = []
        f = lib.compile(_appending(lib, losses), backend="eager") if lib is torch \
            else lib.compile(_appending(lib, losses))
        for k in range(3):
            f(lib.full((2,), float(k)))
        seen[lib] = losses
    assert seen[torchlike] == seen[torch] == [0.0, 2.0, 8.0]
    assert all(type(v) is float for v in seen[torchlike])


def test_with_fullgraph_an_item_kept_outside_the_results_is_unsupported():
    """PyTorch's fullgraph mode replays the append after its graph; here that is an
    Unsupported naming it (not a symbol left in the list)."""
    losses = [1.0]
    with pytest.raises(torchlike._dynamo.exc.Unsupported,
                       match="Symbolic value kept outside the compiled program"):
        torchlike.compile(_appending(torchlike, losses), fullgraph=True)(torchlike.ones(2))
    assert losses == [1.0]


def _reported(lib, out):
    import logging
    log = logging.getLogger("test_compile_item")

    def f(x):
        s = x.sum().item()
        print("sum", s)
        log.warning("twice %.1f", s * 2)
        return x + s
    return f


def test_print_and_logging_of_an_item_show_its_value_at_every_call(capturing, capsys,
                                                                    caplog):
    """print runs at every call with the number (a host callback of the program);
    logging, which formats it inside a handler that catches errors, makes that guard run
    eagerly (the need for the value is noted though the break was caught)."""
    shown = {}
    for lib in (torch, torchlike):
        f = lib.compile(_reported(lib, None), backend="eager") if lib is torch \
            else lib.compile(_reported(lib, None))
        caplog.clear()
        for k in range(3):
            f(lib.full((2,), float(k)))
        shown[lib] = (capsys.readouterr().out, [r.getMessage() for r in caplog.records
                                                if r.name == "test_compile_item"])
    assert shown[torchlike] == shown[torch]
    assert shown[torch][0] == "sum 0.0\nsum 2.0\nsum 4.0\n"
