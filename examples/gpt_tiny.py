"""A tiny nanoGPT-like model: a few AdamW steps on synthetic text, then 64 tokens generated
one at a time, as nanoGPT's `generate` does (crop to the context, last logits, softmax,
`multinomial`, append).

    python examples/gpt_tiny.py --lib torch|torchlike [--device cpu|cuda] [--steps N] [--tokens N]

Plain PyTorch code: the only difference between the two runs is which module `torch` names.
examples/benchmark.py times this script from process start under both.
"""
import argparse
import importlib


def build(torch, vocab_size=65, block_size=64, n_embd=64, n_head=4, n_layer=2):
    nn = torch.nn
    F = torch.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd)
            self.c_proj = nn.Linear(n_embd, n_embd)

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(n_embd, dim=2)
            q = q.view(B, T, n_head, C // n_head).transpose(1, 2)
            k = k.view(B, T, n_head, C // n_head).transpose(1, 2)
            v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.c_proj(y)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(n_embd)
            self.attn = CausalSelfAttention()
            self.ln_2 = nn.LayerNorm(n_embd)
            self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(),
                                     nn.Linear(4 * n_embd, n_embd))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.block_size = block_size
            self.wte = nn.Embedding(vocab_size, n_embd)
            self.wpe = nn.Embedding(block_size, n_embd)
            self.blocks = nn.ModuleList([Block() for _ in range(n_layer)])
            self.ln_f = nn.LayerNorm(n_embd)
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)

        def forward(self, idx, targets=None):
            T = idx.size(1)
            pos = torch.arange(0, T, dtype=torch.long, device=idx.device)
            x = self.wte(idx) + self.wpe(pos)
            for block in self.blocks:
                x = block(x)
            logits = self.lm_head(self.ln_f(x))
            if targets is None:
                return logits, None
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
            return logits, loss

        @torch.no_grad()
        def generate(self, idx, max_new_tokens, temperature=1.0):
            for _ in range(max_new_tokens):
                idx_cond = idx if idx.size(1) <= self.block_size else idx[:, -self.block_size:]
                logits, _ = self(idx_cond)
                logits = logits[:, -1, :] / temperature
                probs = F.softmax(logits, dim=-1)
                idx_next = torch.multinomial(probs, num_samples=1)
                idx = torch.cat((idx, idx_next), dim=1)
            return idx

    return GPT()


def synthetic_text(torch, vocab_size, length):
    """A learnable stream of tokens: a repeating ramp with a little noise."""
    ramp = torch.arange(length) % vocab_size
    noise = (torch.rand(length) < 0.1).long() * torch.randint(0, vocab_size, (length,))
    return (ramp + noise) % vocab_size


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lib", default="torchlike", choices=["torch", "torchlike"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=10, help="AdamW training steps")
    parser.add_argument("--tokens", type=int, default=64, help="tokens to generate")
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args(argv)
    torch = importlib.import_module(args.lib)

    torch.manual_seed(0)
    model = build(torch).to(args.device)
    block_size = model.block_size
    data = synthetic_text(torch, 65, 4096)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

    model.train()
    for step in range(args.steps):
        ix = torch.randint(len(data) - block_size, (args.batch,))
        x = torch.stack([data[i:i + block_size] for i in ix]).to(args.device)
        y = torch.stack([data[i + 1:i + 1 + block_size] for i in ix]).to(args.device)
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        print(f"step {step}: loss {loss.item():.4f}")

    model.eval()
    start = torch.zeros((1, 1), dtype=torch.long, device=args.device)
    out = model.generate(start, max_new_tokens=args.tokens)[0].tolist()
    generated = out[1:]
    print(f"generated {len(generated)} tokens: {' '.join(map(str, generated))}")
    return generated


if __name__ == "__main__":
    main()
