"""Train a small CNN to read digits, written exactly as a PyTorch user would: only the
import differs. Run it with

    python examples/train_digits.py

The digits are synthetic (no download, no extra package): each image is a 3x5 bitmap
font glyph, scaled to 6x10 and drawn at a random place on a 12x12 canvas with random
brightness and noise, all generated deterministically with numpy. With the defaults
it trains for 6 epochs (10-15 s on a CPU) and reaches about 95% test accuracy,
where chance is 10%. Replacing `torchlike` by `torch` in the imports runs it on PyTorch.
"""
import argparse

import numpy as np

import torchlike as torch
import torchlike.nn as nn
import torchlike.nn.functional as F
from torchlike.utils.data import DataLoader, TensorDataset

# 3 columns x 5 rows per digit, one string per row
GLYPHS = {
    0: ["###", "#.#", "#.#", "#.#", "###"], 1: [".#.", "##.", ".#.", ".#.", "###"],
    2: ["###", "..#", "###", "#..", "###"], 3: ["###", "..#", ".##", "..#", "###"],
    4: ["#.#", "#.#", "###", "..#", "..#"], 5: ["###", "#..", "###", "..#", "###"],
    6: ["###", "#..", "###", "#.#", "###"], 7: ["###", "..#", ".#.", ".#.", ".#."],
    8: ["###", "#.#", "###", "#.#", "###"], 9: ["###", "#.#", "###", "..#", "###"],
}
SIZE = 12


def make_digits(count, seed):
    """`count` noisy 12x12 digit images (float32, 1 channel) and their labels."""
    rng = np.random.default_rng(seed)
    glyphs = np.stack([np.array([[c == "#" for c in row] for row in GLYPHS[d]], np.float32)
                       for d in range(10)])
    glyphs = glyphs.repeat(2, axis=1).repeat(2, axis=2)          # 10 x 10 x 6
    labels = rng.integers(0, 10, count)
    images = np.zeros((count, 1, SIZE, SIZE), np.float32)
    tops = rng.integers(0, SIZE - 10 + 1, count)
    lefts = rng.integers(0, SIZE - 6 + 1, count)
    for i, (label, top, left) in enumerate(zip(labels, tops, lefts)):
        images[i, 0, top:top + 10, left:left + 6] = glyphs[label]
    images *= rng.uniform(0.6, 1.0, (count, 1, 1, 1)).astype(np.float32)
    images += rng.normal(0, 0.3, images.shape).astype(np.float32)
    return torch.tensor(images), torch.tensor(labels)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.dropout = nn.Dropout(0.1)
        self.fc = nn.Linear(16 * 3 * 3, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)      # 8 x 6 x 6
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)      # 16 x 3 x 3
        return self.fc(self.dropout(torch.flatten(x, 1)))


def evaluate(model, loader, device):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            correct += (model(images).argmax(dim=1) == labels).sum().item()
            total += labels.numel()
    return correct / total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--train-size", type=int, default=2048)
    parser.add_argument("--test-size", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    train_set = TensorDataset(*make_digits(args.train_size, seed=args.seed))
    test_set = TensorDataset(*make_digits(args.test_size, seed=args.seed + 1))
    generator = torch.Generator().manual_seed(args.seed)
    # every batch the same shape, so each step reuses the compiled kernels
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              drop_last=True, generator=generator)
    test_loader = DataLoader(test_set, batch_size=args.batch_size)

    model = Net().to(args.device)
    print(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        model.train()
        total_loss, batches = 0.0, 0
        for images, labels in train_loader:
            images, labels = images.to(args.device), labels.to(args.device)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
            batches += 1
        scheduler.step()
        accuracy = evaluate(model, test_loader, args.device)
        print(f"epoch {epoch}: train loss {total_loss / batches:.4f}, "
              f"test accuracy {accuracy:.1%}, lr {scheduler.get_last_lr()[0]:.4g}")
    return accuracy


if __name__ == "__main__":
    main()
