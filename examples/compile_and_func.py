"""JAX's transforms through PyTorch's own APIs: torch.func and torch.compile.

    python examples/compile_and_func.py [--lib torchlike|torch] [--device cpu|cuda]

1. per-sample gradients with vmap(grad(...)) over a small model's loss, and the time of
   a call once the function is warm (repeated calls run one compiled program);
2. a Hessian-vector product (jvp of grad);
3. an ensemble of 4 small models run at once with stack_module_state + vmap;
4. a compiled training loop (torch.compile of the whole step) and its speed against the
   same loop run eagerly.

Everything is plain PyTorch code; with --lib torch it runs on PyTorch itself (its
torch.compile needs a C++ compiler for the default backend, so there it uses
backend="eager").
"""
import argparse
import copy
import importlib
import time


def per_sample_grads(torch, device, calls=20):
    functional_call, grad, vmap = torch.func.functional_call, torch.func.grad, torch.func.vmap
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2).to(device)
    params = {k: v.detach() for k, v in model.named_parameters()}
    x = torch.randn(5, 3, device=device)
    y = torch.randn(5, 2, device=device)

    def loss(p, xi, yi):
        out = functional_call(model, p, (xi.unsqueeze(0),))
        return ((out - yi.unsqueeze(0)) ** 2).mean()
    per_sample = vmap(grad(loss), in_dims=(None, 0, 0))
    grads = per_sample(params, x, y)
    # called again, as a training loop calls it: under torchlike the second call compiles
    # one program (docs/jax.md), which every later call runs
    per_sample(params, x, y)["weight"].sum().item()
    start = time.perf_counter()
    for _ in range(calls):
        per_sample(params, x, y)["weight"].sum().item()
    per_call = (time.perf_counter() - start) / calls
    # the mean of the per-sample gradients is the batch gradient
    model.zero_grad()
    ((model(x) - y) ** 2).mean(dim=1).mean().backward()
    gap = (grads["weight"].mean(0) - model.weight.grad).abs().max().item()
    print(f"per-sample gradients: {per_call * 1e3:.3f} ms a call after the first two; "
          f"weight {tuple(grads['weight'].shape)}, mean vs batch gradient max |diff| {gap:.2e}")
    return grads


def hessian_vector_product(torch, device):
    grad, jvp = torch.func.grad, torch.func.jvp

    def f(x):
        return (x.sin() * x).sum()
    x = torch.linspace(-1, 1, 4, device=device)
    v = torch.ones(4, device=device)
    _, hvp = jvp(grad(f), (x,), (v,))
    # f is a sum of elementwise terms: its Hessian is diagonal, 2cos(x) - x sin(x)
    exact = 2 * x.cos() - x * x.sin()
    print(f"Hessian-vector product: {[round(float(a), 4) for a in hvp]} "
          f"(max |diff| from the formula {(hvp - exact).abs().max().item():.1e})")
    return hvp


def ensemble(torch, device):
    functional_call, vmap = torch.func.functional_call, torch.func.vmap
    torch.manual_seed(0)
    models = [torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(),
                                  torch.nn.Linear(8, 1)).to(device) for _ in range(4)]
    params, buffers = torch.func.stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")      # (a stand-in: functional_call swaps in)
    x = torch.randn(6, 4, device=device)

    def run(p, b, inputs):
        return functional_call(base, (p, b), (inputs,))
    outs = vmap(run, in_dims=(0, 0, None))(params, buffers, x)
    one_by_one = torch.stack([m(x) for m in models])
    print(f"ensemble of 4: output {tuple(outs.shape)}, max |diff| from one model at a time "
          f"{(outs - one_by_one).abs().max().item():.1e}")
    return outs


def compiled_training(torch, device, steps=60):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 10)).to(device)
    eager_model = copy.deepcopy(model)
    x = torch.randn(128, 64, device=device)
    y = torch.randint(0, 10, (128,), device=device)

    def make_step(m):
        opt = torch.optim.AdamW(m.parameters(), lr=1e-3)

        def step():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(m(x), y)
            loss.backward()
            opt.step()
            return loss
        return step
    backend = "eager" if torch.__name__ == "torch" else "inductor"
    timings = {}
    for name, step in (("eager", make_step(eager_model)),
                       ("compiled", torch.compile(make_step(model), backend=backend))):
        start = time.perf_counter()
        first = step().item()
        warm = time.perf_counter() - start
        step().item()
        start = time.perf_counter()
        for _ in range(steps):
            last = step().item()
        timings[name] = (time.perf_counter() - start) / steps
        print(f"{name:>8}: first step {warm:.2f} s, then {timings[name] * 1e3:.3f} ms/step; "
              f"loss {first:.4f} -> {last:.4f}")
    print(f"compiled/eager time per step: {timings['compiled'] / timings['eager']:.2f}")
    return timings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", default="torchlike", choices=["torchlike", "torch"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args(argv)
    torch = importlib.import_module(args.lib)
    return (per_sample_grads(torch, args.device), hessian_vector_product(torch, args.device),
            ensemble(torch, args.device), compiled_training(torch, args.device, args.steps))


if __name__ == "__main__":
    main()
