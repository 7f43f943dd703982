#!/usr/bin/env python3
"""PyTorch side of the H = 2 plateau-rate measurement (issue #16; not part of the test suite).

Trains seed 004's own model and loop, ported line by line from the notebook: MultiHeadAttention
(query-only, bias=False, n_out=1, torch's default nn.Linear init, created q, k, v, o in that order),
LinearReg's data (x, x_q, beta, noise drawn in that order from the global generator: beta ~ N(0, I),
noise_std 0.01, y_q noiseless), MSELoss, Adam(lr 1e-3, betas (0.9, 0.999), eps 1e-8), batch 128,
d = 5, L = 40, and a validation batch drawn from the same stream after every step % 1000 == 0, as
run_experiment does. Seed s calls torch.manual_seed(s) once, before the model is built.

After the last step, each run's heads are read as the notebook's calculate_statistics does
(w^h = mean of the first d diagonal entries of W_Q W_K^T / sqrt(d + 1), mu^h = OV[-1, -1]) and the
model is evaluated on 20,000 fresh tasks from a separate generator. A run is on the single-head
plateau when its two w^h have the same sign. Prints one JSON line per seed, then a summary line.

    nice /usr/bin/python3 packages/fused/bench/plateau_torch.py [--seeds 0-19] [--steps 20000]
        [--heads 2] [--threads 1] [--init torch|attnlab-json=FILE] [--dump-init FILE]

--threads defaults to 1, so runs can share a loaded machine.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn


class MultiHeadAttention(nn.Module):  # seed 004's class, init_method="random", bias=False
    def __init__(self, n_embd, n_head, n_out):
        super().__init__()
        self.n_embd, self.n_head = n_embd, n_head
        self.q_proj = nn.Linear(n_embd, n_embd * n_head, bias=False)
        self.k_proj = nn.Linear(n_embd, n_embd * n_head, bias=False)
        self.v_proj = nn.Linear(n_embd, n_embd * n_head, bias=False)
        self.o_proj = nn.Linear(n_embd * n_head, n_out, bias=False)

    def forward(self, z_q, z):
        b, n, q_len = z.size(0), z.size(1), z_q.size(1)
        q = self.q_proj(z_q).view(-1, q_len, self.n_head, self.n_embd).permute(0, 2, 1, 3)
        k = self.k_proj(z).view(-1, n, self.n_head, self.n_embd).permute(0, 2, 1, 3)
        v = self.v_proj(z).view(-1, n, self.n_head, self.n_embd).permute(0, 2, 1, 3)
        w = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * self.n_embd ** (-0.5), dim=-1)
        out = torch.matmul(w, v).permute(0, 2, 1, 3).contiguous().view(b, q_len, self.n_embd * self.n_head)
        return self.o_proj(out)


def generate(n, L, d, noise_std, gen=None):  # LinearReg.__generatedata__ with dy = 1
    x = torch.randn(n, L, d, generator=gen)
    x_q = torch.randn(n, 1, d, generator=gen)
    beta = torch.randn(n, d, 1, generator=gen)
    y = torch.einsum('nlx,nxy->nly', x, beta)
    y += math.sqrt(d) * noise_std * torch.randn(n, L, 1, generator=gen)
    y_q = torch.einsum('nlx,nxy->nly', x_q, beta)
    z = torch.cat([x, y], dim=2)
    z_q = torch.cat([x_q, torch.zeros_like(y_q)], dim=2)
    return z_q, z, y_q


def heads(model, d):  # calculate_statistics' w^h and mu^h
    D, H = d + 1, model.n_head
    q = model.q_proj.weight.detach().T.reshape(D, H, D)
    k = model.k_proj.weight.detach().T.reshape(D, H, D)
    v = model.v_proj.weight.detach().T.reshape(D, H, D)
    o = model.o_proj.weight.detach().T.reshape(H, D, -1)
    ws, mus = [], []
    for h in range(H):
        qk = (q[:, h, :] @ k[:, h, :].T) / math.sqrt(D)
        ws.append(float(torch.diagonal(qk)[:d].mean()))
        mus.append(float((v[:, h, :] @ o[h])[-1, -1]))
    return ws, mus


def run(seed, steps, H, init=None, d=5, L=40, batch=128, noise_std=0.01):
    torch.manual_seed(seed)
    model = MultiHeadAttention(d + 1, H, 1)
    if init is not None:
        with torch.no_grad():
            for name in ('q_proj', 'k_proj', 'v_proj', 'o_proj'):
                getattr(model, name).weight.copy_(torch.tensor(init[name], dtype=torch.float32))
    opt = torch.optim.Adam(model.parameters(), lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)
    loss_fn = nn.MSELoss()
    w0, _ = heads(model, d)
    for step in range(steps):
        zq, z, yq = generate(batch, L, d, noise_std)
        opt.zero_grad()
        loss = loss_fn(model(zq, z), yq)
        loss.backward()
        opt.step()
        if step % 1000 == 0:  # the notebook's validation draw, from the same stream
            with torch.no_grad():
                generate(batch, L, d, noise_std)
    gen = torch.Generator().manual_seed(10_000 + seed)
    with torch.no_grad():
        zq, z, yq = generate(20_000, L, d, noise_std, gen)
        val = float(loss_fn(model(zq, z), yq))
    ws, mus = heads(model, d)
    same = all(w > 0 for w in ws) or all(w < 0 for w in ws)
    return dict(seed=seed, w0=w0, w=ws, mu=mus, validation=val, plateau=same)


def parse_seeds(text):
    out = []
    for part in text.split(','):
        if '-' in part:
            a, b = part.split('-')
            out += list(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--seeds', default='0-19')
    p.add_argument('--steps', type=int, default=20000)
    p.add_argument('--heads', type=int, default=2)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--init', default='torch', help="torch, or attnlab-json=FILE: {seed: {q_proj, k_proj, v_proj, o_proj}} in torch's [out, in] layout")
    p.add_argument('--dump-init', default=None, help='write the initial weights of --seeds to this JSON file (no training) and stop')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.dump_init:
        out = {}
        for seed in parse_seeds(args.seeds):
            torch.manual_seed(seed)
            m = MultiHeadAttention(6, args.heads, 1)
            out[str(seed)] = {n: getattr(m, n).weight.detach().tolist() for n in ('q_proj', 'k_proj', 'v_proj', 'o_proj')}
        with open(args.dump_init, 'w') as f:
            json.dump(out, f)
        return
    inits = None
    if args.init.startswith('attnlab-json='):
        with open(args.init.split('=', 1)[1]) as f:
            inits = json.load(f)
    elif args.init != 'torch':
        p.error(f"--init: {args.init!r}; allowed: torch, attnlab-json=FILE")
    plateaus, n = 0, 0
    for seed in parse_seeds(args.seeds):
        t0 = time.perf_counter()
        r = run(seed, args.steps, args.heads, None if inits is None else inits[str(seed)])
        r['seconds'] = round(time.perf_counter() - t0, 1)
        print(json.dumps(r), flush=True)
        plateaus += r['plateau']
        n += 1
    print(json.dumps({'summary': True, 'torch': torch.__version__, 'steps': args.steps, 'heads': args.heads, 'init': args.init,
                      'runs': n, 'plateau': plateaus}), flush=True)


if __name__ == '__main__':
    main()
