"""Shared fixtures: real PyTorch is the oracle (tinygrad's helper_test_op habit).

Oracle tests import torch through `torch_oracle`; without torch installed they skip,
and `.ci/run` fails the run if any of them skipped.
"""
import numpy as np
import pytest

import torchlike
from torchlike import _caches
from helpers import call_counter
from torchlike.optim import _elementwise
from torchlike.optim._elementwise import ElementwiseOptimizer

try:
    import torch
except ImportError:  # the oracle is optional outside CI (see .ci/run)
    torch = None


@pytest.fixture
def oracle():
    if torch is None:
        pytest.skip("oracle: real torch is not installed")
    return torch


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Tests that change defaults must not leak them into other tests."""
    # torchlike drops every compiled program once MAX_COMPILES were made (_caches.py); a
    # test that counts compiles would count the recompiles of a drop that fell inside it
    # (an xdist worker runs thousands of tests). So past half the budget, the drop
    # happens here, between tests.
    if _caches.compiles.since_reset >= _caches.MAX_COMPILES // 2:
        _caches.compiles.since_reset = _caches.MAX_COMPILES
        _caches.release_if_over_budget()
    yield
    # an optimizer's first update compiled ahead (optim/ahead.py) finishes inside the
    # test that started it, not during the next test's count of compiles
    torchlike.optim.ahead.wait()
    torchlike.set_default_dtype(torchlike.float32)
    torchlike.set_printoptions(profile="default")
    if torch is not None:
        torch.set_default_dtype(torch.float32)
        torch.set_printoptions(profile="default")
        # (real torch.compile turns distributions' argument checks off for the process)
        torch.distributions.Distribution.set_default_validate_args(True)


# -- the optimizers' remembered plan (optim/_elementwise.py): two ways to watch it,
# shared by test_optim_steady_plan.py and test_optim_steady_run.py
@pytest.fixture
def general_path(monkeypatch):
    """Every step planned afresh (the remembered plan is never repeated)."""
    def use():
        monkeypatch.setattr(_elementwise._Steady, "repeat", lambda *args: None)
    return use


@pytest.fixture
def plan_calls(monkeypatch):
    """How many times a step planned its group (`_plan`)."""
    return call_counter(monkeypatch, ElementwiseOptimizer, "_plan")
