"""examples/train_digits.py trains for real: a short run must beat chance clearly, and
the same file runs on PyTorch once its imports name torch (it is plain PyTorch code)."""
import importlib.util
import pathlib
import sys

import pytest

EXAMPLE = pathlib.Path(__file__).resolve().parent.parent / "examples" / "train_digits.py"
SHORT_RUN = ["--epochs", "3", "--train-size", "1536", "--test-size", "256"]


def _load(source, name):
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, str(EXAMPLE), "exec"), module.__dict__)
    return module


def test_train_digits_learns(capsys):
    module = _load(EXAMPLE.read_text(), "train_digits")
    accuracy = module.main(SHORT_RUN)
    out = capsys.readouterr().out
    assert out.startswith("Net(\n  (conv1): Conv2d(1, 8, kernel_size=(3, 3)")
    assert "epoch 3: train loss" in out
    assert accuracy > 0.6, out          # chance is 0.1; this run reaches 0.86, the default 0.95


def test_train_digits_is_plain_pytorch(oracle, capsys):
    source = EXAMPLE.read_text().replace("import torchlike", "import torch")
    source = source.replace("from torchlike.", "from torch.")
    assert "torchlike" not in source.split('"""', 2)[2]
    module = _load(source, "train_digits_on_torch")
    threads = oracle.get_num_threads()
    oracle.set_num_threads(1)          # torch's spinning threads fight JAX's for 2 cores
    try:
        accuracy = module.main(SHORT_RUN)
    finally:
        oracle.set_num_threads(threads)
    assert accuracy > 0.6, capsys.readouterr().out
