"""torch.multiprocessing (spawn and its errors) and torch.testing.assert_allclose against
PyTorch's."""
import pathlib
import warnings

import pytest

import torchlike
import torchlike.multiprocessing as tmp

torch = pytest.importorskip("torch")
import torch.multiprocessing as mp  # noqa: E402


def _record_rank(rank, folder):
    """A spawned process's work: leave a file named after its rank."""
    pathlib.Path(folder, f"rank{rank}").write_text(str(rank))


def _fail_on_rank_one(rank):
    if rank == 1:
        raise ValueError("rank one refuses")


def test_namespace_re_exports_pythons_multiprocessing():
    assert set(mp.__all__) <= set(dir(tmp))
    for name in ("Process", "Queue", "get_context", "cpu_count", "Pool", "set_start_method"):
        assert getattr(tmp, name) is getattr(mp, name)
    assert tmp.get_all_sharing_strategies() == mp.get_all_sharing_strategies()
    assert tmp.get_sharing_strategy() == mp.get_sharing_strategy()
    with pytest.raises(AssertionError):
        tmp.set_sharing_strategy("no such strategy")


# "fork" keeps these fast: a forked child runs only the small function above, while a
# spawned one would import torchlike, JAX and torch again (seconds per process).
@pytest.mark.filterwarnings("ignore:os.fork")
def test_start_processes_runs_fn_with_each_rank(tmp_path):
    for lib in (mp, tmp):
        folder = tmp_path / lib.__name__
        folder.mkdir()
        assert lib.start_processes(_record_rank, (str(folder),), nprocs=2,
                                   start_method="fork") is None
        assert sorted(p.name for p in folder.iterdir()) == ["rank0", "rank1"]


@pytest.mark.filterwarnings("ignore:os.fork")
def test_a_failing_process_raises_with_its_traceback():
    raised = []
    for lib in (mp, tmp):
        with pytest.raises(lib.ProcessRaisedException) as info:
            lib.start_processes(_fail_on_rank_one, nprocs=2, start_method="fork")
        raised.append(info.value)
    ours, theirs = raised[1], raised[0]
    assert ours.error_index == theirs.error_index == 1
    head = "\n\n-- Process 1 terminated with the following error:\nTraceback"
    assert str(ours).startswith(head) and str(theirs).startswith(head)
    assert str(ours).endswith("ValueError: rank one refuses\n")
    assert str(theirs).endswith("ValueError: rank one refuses\n")


def test_spawn_warns_for_another_start_method():
    def message(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(Exception):         # a lambda cannot be pickled: no process
                lib.spawn(lambda rank: None, nprocs=1, start_method="fork")
        return [(c.category, str(c.message)) for c in caught if c.category is FutureWarning]
    assert message(tmp) == message(mp) != []


def test_assert_allclose_is_deprecated_and_compares_as_pytorch():
    def run(lib, actual, expected, **kwargs):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                lib.testing.assert_allclose(actual(lib), expected, **kwargs)
                outcome = None
            except AssertionError as e:
                outcome = str(e)
        return outcome, [(c.category, str(c.message)) for c in caught]
    cases = [(lambda L: L.ones(3), [1.0, 1.0, 1.000001], {}),        # within float32's 1e-4
             (lambda L: L.ones(3), [1.0, 1.0, 1.001], {}),
             (lambda L: L.ones(3, dtype=L.float64), [1.0, 1.0, 1.000001], {}),
             (lambda L: L.tensor([1.0, float("nan")]), [1.0, float("nan")], {}),
             (lambda L: L.tensor([1, 2]), [1, 3], {}),
             (lambda L: L.ones(2), [1.0, 1.5], dict(rtol=0.0, atol=0.6))]
    for actual, expected, kwargs in cases:
        assert run(torchlike, actual, expected, **kwargs) == run(torch, actual, expected, **kwargs)
