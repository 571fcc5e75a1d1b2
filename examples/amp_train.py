"""Mixed-precision training, written as a PyTorch user writes it: autocast runs the
matrix products in float16 (or bfloat16), GradScaler scales the loss so that float16
gradients do not underflow, skips the steps whose gradients overflowed and adapts the
scale. Only the import differs from PyTorch. Run it with

    python examples/amp_train.py                  # CPU
    python examples/amp_train.py --device cuda    # a GPU

It prints the loss, the loss scale and whether the step was taken, every few steps.
The data and the initial weights come from numpy with a fixed seed, so the same script
under PyTorch (replace `torchlike` by `torch`) prints the same numbers up to float16
rounding, and the same scale and skipped steps.
"""
import argparse

import numpy as np

import torchlike as torch
import torchlike.nn as nn
import torchlike.nn.functional as F


def make_data(count, features, classes, rng):
    """Points around one random centre per class."""
    centres = rng.standard_normal((classes, features)).astype(np.float32) * 0.6
    labels = rng.integers(0, classes, count)
    points = centres[labels] + rng.standard_normal((count, features)).astype(np.float32)
    return torch.tensor(points), torch.tensor(labels)


class Classifier(nn.Module):
    def __init__(self, features, hidden, classes):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.out(F.relu(self.fc2(F.relu(self.fc1(x)))))


def init_from_numpy(model, rng):
    """Deterministic initial weights, identical under torch and torchlike."""
    with torch.no_grad():
        for p in model.parameters():
            scale = 1 / np.sqrt(p.shape[-1]) if p.ndim > 1 else 0.0
            p.copy_(torch.tensor((rng.standard_normal(tuple(p.shape)) * scale)
                                 .astype(np.float32)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float16", choices=["float16", "bfloat16"])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--print-every", type=int, default=10)
    parser.add_argument("--init-scale", type=float, default=2.0 ** 24)
    args = parser.parse_args(argv)

    device = torch.device(args.device)
    dtype = getattr(torch, args.dtype)
    rng = np.random.default_rng(0)
    x, y = make_data(512, 16, 4, rng)
    x, y = x.to(device), y.to(device)
    model = Classifier(16, 64, 4)
    init_from_numpy(model, rng)
    model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    scaler = torch.amp.GradScaler(device.type, init_scale=args.init_scale, growth_interval=20)

    history = []
    for step in range(1, args.steps + 1):
        optimizer.zero_grad()
        with torch.autocast(device_type=device.type, dtype=dtype):
            logits = model(x)                       # float16 products
            loss = F.cross_entropy(logits, y)       # float32 (PyTorch's cast lists)
        scaler.scale(loss).backward()
        scale = scaler.get_scale()
        scaler.step(optimizer)
        scaler.update()
        taken = scaler.get_scale() >= scale         # the scale backs off after a skipped step
        history.append((step, loss.item(), scale, taken))
        if step % args.print_every == 0 or not taken:
            print(f"step {step:3d}  loss {loss.item():.4f}  scale {scale:.0f}  "
                  f"{'step taken' if taken else 'skipped: inf/nan gradients'}")
    with torch.no_grad(), torch.autocast(device_type=device.type, dtype=dtype):
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    print(f"logits dtype {logits.dtype}, loss dtype {loss.dtype}, accuracy {accuracy:.3f}")
    return history, accuracy


if __name__ == "__main__":
    main()
