"""The autograd walkthrough the project grew from (shared/seeds/autograd_notebook.txt),
run unchanged but for the import. Its output matches the PyTorch notebook's (random
values aside)."""
import torchlike as torch

# a base tensor that records operations for backpropagation
x = torch.ones(3, 3, requires_grad=True)
print(x)

y = x + 2
print(y)

z = y * y * 3
out = z.mean()
print(z)
print(out)

out
out.backward()
print(x.grad)

x = torch.randn(3, 3, requires_grad=True)
print(x)
y = x.detach()
print(y)

a = torch.randn(2, 2)
a = ((a - 3) / (a - 1))
print(a.requires_grad)
a.requires_grad_(True)
print(a.requires_grad)
b = (a * a).sum()
print(f"grad_fn test : {b.grad_fn}")
print("yay!! now grad function is added")
