"""Data-parallel training with DistributedDataParallel, in plain PyTorch style.

    python -m torchlike.distributed.run --nproc_per_node 2 examples/ddp_train.py
    torchlikerun --nproc_per_node 2 examples/ddp_train.py --epochs 5

The same file runs under real PyTorch once its imports name torch:
    sed 's/import torchlike/import torch/; s/from torchlike/from torch/' \
        examples/ddp_train.py > /tmp/ddp_train_torch.py
    torchrun --nproc_per_node 2 /tmp/ddp_train_torch.py

Each rank trains on its share of a synthetic regression data set (DistributedSampler);
DDP averages the gradients, so every rank holds the same model after every step.
"""
import argparse

import torchlike as torch
import torchlike.distributed as dist
from torchlike.nn.parallel import DistributedDataParallel
from torchlike.utils.data import DataLoader, TensorDataset
from torchlike.utils.data.distributed import DistributedSampler


def make_data(n=512, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    true_w = torch.linspace(-1.0, 1.0, 8)
    y = (x @ true_w + 0.3 * torch.sin(3 * x[:, 0])).unsqueeze(1)
    return TensorDataset(x, y)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    args = parser.parse_args(argv)

    dist.init_process_group("gloo")          # env:// : the launcher set RANK, WORLD_SIZE ...
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)                      # DDP broadcasts rank 0's weights anyway
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
    ddp = DistributedDataParallel(model)
    data = make_data()
    sampler = DistributedSampler(data, shuffle=True, seed=0)
    loader = DataLoader(data, batch_size=args.batch_size, sampler=sampler)
    opt = torch.optim.SGD(ddp.parameters(), lr=args.lr, momentum=0.9)

    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)              # a new shuffle each epoch, the same on all ranks
        total, batches = torch.zeros(1), 0
        for x, y in loader:
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(ddp(x), y)
            loss.backward()                   # gradients averaged across ranks here
            opt.step()
            total += loss.detach()
            batches += 1
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        mean = total.item() / (batches * world)
        if rank == 0:
            print(f"epoch {epoch}: mean train loss {mean:.4f} over {world} ranks", flush=True)

    # every rank ends with the same weights: check it with one collective
    checksum = torch.stack([p.detach().sum() for p in model.parameters()]).sum().reshape(1)
    low, high = checksum.clone(), checksum.clone()
    dist.all_reduce(low, op=dist.ReduceOp.MIN)
    dist.all_reduce(high, op=dist.ReduceOp.MAX)
    if rank == 0:
        print(f"weights identical on all ranks: {bool(low.item() == high.item())}", flush=True)
    dist.destroy_process_group()
    return mean


if __name__ == "__main__":
    main()
