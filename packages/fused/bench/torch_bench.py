#!/usr/bin/env python3
"""Optional PyTorch baseline for BENCHMARKS.md and `attnlab bench --torch` (not part of the test suite).

Seed 004's single-layer query-only multi-head attention (d = 5, L = 40, no bias, n_out = 1),
fresh torch.randn data every step, MSELoss, Adam(lr 1e-3), on the CPU with one thread by default,
in two settings (the rows of @attnlab/fused's benchmark, `benchmarkSpec`):
  seed:  seed 004's task: beta ~ N(0, I), noise_std 0.01, y_q noiseless, batch 128
  paper: beta ~ N(0, I/d), sigma^2 = 0.1 (noise_std = sqrt(0.1/d)), noisy y_q, batch 256
Prints JSON: steps/s per setting and head count (rows without "setting" are seed rows).

    /usr/bin/python3 packages/fused/bench/torch_bench.py [--heads 1,2,4,8] [--settings seed,paper] [--seconds 3] [--threads 1]
"""
import argparse, json, math, time
import torch


class QueryAttention(torch.nn.Module):
    def __init__(self, width, heads, n_out=1):
        super().__init__()
        self.width, self.heads = width, heads
        self.q = torch.nn.Linear(width, width * heads, bias=False)
        self.k = torch.nn.Linear(width, width * heads, bias=False)
        self.v = torch.nn.Linear(width, width * heads, bias=False)
        self.o = torch.nn.Linear(width * heads, n_out, bias=False)

    def forward(self, zq, z):
        b, n, w, h = z.shape[0], z.shape[1], self.width, self.heads
        q = self.q(zq).view(b, 1, h, w).transpose(1, 2)
        k = self.k(z).view(b, n, h, w).transpose(1, 2)
        v = self.v(z).view(b, n, h, w).transpose(1, 2)
        a = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(w), dim=-1)
        return self.o((a @ v).transpose(1, 2).reshape(b, 1, h * w))


def batch(n, L, d, beta_scale, noise, query_noise):
    x = torch.randn(n, L, d)
    xq = torch.randn(n, 1, d)
    beta = beta_scale * torch.randn(n, d, 1)
    y = x @ beta + math.sqrt(d) * noise * torch.randn(n, L, 1)
    yq = xq @ beta
    if query_noise:
        yq = yq + math.sqrt(d) * noise * torch.randn(n, 1, 1)
    return torch.cat([xq, torch.zeros_like(yq)], 2), torch.cat([x, y], 2), yq


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--heads', default='1,2,4,8')
    p.add_argument('--settings', default='seed', help='comma-separated: seed, paper')
    p.add_argument('--seconds', type=float, default=3)
    p.add_argument('--threads', type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    d, L = 5, 40
    # setting -> (batch, beta scale, noise_std, noisy y_q)
    settings = {'seed': (128, 1.0, 0.01, False), 'paper': (256, 1 / math.sqrt(d), math.sqrt(0.1 / d), True)}
    out = {'torch': torch.__version__, 'threads': args.threads, 'rows': []}
    for setting in [s.strip() for s in args.settings.split(',') if s.strip()]:
        if setting not in settings:
            p.error(f"--settings: unknown setting {setting!r}; allowed: seed, paper")
        B, beta_scale, noise, query_noise = settings[setting]
        for h in [int(s) for s in args.heads.split(',')]:
            model = QueryAttention(d + 1, h)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            loss_fn = torch.nn.MSELoss()

            def step():
                zq, z, yq = batch(B, L, d, beta_scale, noise, query_noise)
                opt.zero_grad()
                loss = loss_fn(model(zq, z), yq)
                loss.backward()
                opt.step()
                return loss.item()

            for _ in range(20):
                step()
            n, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < args.seconds:
                step()
                n += 1
            secs = time.perf_counter() - t0
            out['rows'].append({'setting': setting, 'heads': h, 'batch': B, 'steps': n, 'seconds': secs, 'stepsPerSecond': n / secs})
    print(json.dumps(out, indent=2))


if __name__ == '__main__':
    main()
