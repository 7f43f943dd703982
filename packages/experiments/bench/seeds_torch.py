#!/usr/bin/env python3
"""Optional PyTorch side of `attnlab bench`'s seed 003 / seed 000 rows (not part of the test suite).

Runs the seeds' own code: shared/seeds/003 (cv_sweep_mha_testing.py: run_experiment and everything
it calls, unchanged) and shared/seeds/000 (the value matrix playground: the computations of
experiments 1-5 unchanged, with most of their prints trimmed; the plotting imports matplotlib, sklearn
and seaborn, unused by the computation, left out). Every print goes to a discarded buffer. Times each
piece with time.perf_counter and prints JSON.

    /usr/bin/python3 packages/experiments/bench/seeds_torch.py [--rows cv-one,cv-preset,value-matrix]
        [--config 64,4] [--threads N]

--threads defaults to torch's own default (every core); `attnlab bench` passes it explicitly.
"""
import argparse
import contextlib
import io
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# ===================== seed 003 (cv_sweep_mha_testing.py), unchanged =====================

# ── CM primitives ──
def cayley_menger_vol2(points):
    B, N, D = points.shape
    gram = torch.bmm(points, points.transpose(1, 2))
    norms = torch.diagonal(gram, dim1=1, dim2=2)
    d2 = F.relu(norms.unsqueeze(2) + norms.unsqueeze(1) - 2 * gram)
    cm = torch.zeros(B, N + 1, N + 1, device=points.device, dtype=points.dtype)
    cm[:, 0, 1:] = 1.0
    cm[:, 1:, 0] = 1.0
    cm[:, 1:, 1:] = d2
    k = N - 1
    sign = (-1.0) ** (k + 1)
    fact = math.factorial(k)
    return sign * torch.linalg.det(cm.float()).to(points.dtype) / ((2 ** k) * (fact ** 2))


def cv_metric(weight, n_samples=300):
    """CV of pentachoron volumes. weight: (N, D)"""
    V, D = weight.shape
    if V < 5:
        return None
    pool = min(V, 512)
    indices = torch.stack([
        torch.randperm(pool, device=weight.device)[:5]
        for _ in range(n_samples)
    ])
    pts = weight[:pool][indices]
    vol2 = cayley_menger_vol2(pts)
    valid = vol2 > 1e-20
    if valid.sum() < 10:
        return None
    vols = vol2[valid].sqrt()
    return (vols.std() / (vols.mean() + 1e-8)).item()


# ── Minimal model ──
class MHAClassifier(nn.Module):
    def __init__(self, vocab, dim, n_heads, seq_len, n_classes):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(torch.randn(1, seq_len, dim) * 0.02)
        self.mha = nn.MultiheadAttention(dim, n_heads, batch_first=True)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, x):
        # x: (B, seq_len) token indices
        h = self.emb(x) + self.pos
        attn_out, _ = self.mha(h, h, h)
        h = self.norm(h + attn_out)
        # pool over sequence
        h = h.mean(dim=1)
        return self.head(h)

    @torch.no_grad()
    def forward_activations(self, x, n_heads):
        """Forward pass returning per-head Q/K/V activations and post-attn output.
        Returns dict of (B*seq, head_dim) tensors for CV measurement.
        """
        h = self.emb(x) + self.pos  # (B, seq, D)
        B, S, D = h.shape
        head_dim = D // n_heads
        # Manually compute Q, K, V from in_proj
        w = self.mha.in_proj_weight
        b = self.mha.in_proj_bias
        qkv = F.linear(h, w, b)  # (B, seq, 3*D)
        q, k, v = qkv.chunk(3, dim=-1)  # each (B, seq, D)
        # Reshape to per-head: (B, seq, n_heads, head_dim)
        q = q.view(B, S, n_heads, head_dim)
        k = k.view(B, S, n_heads, head_dim)
        v = v.view(B, S, n_heads, head_dim)
        # Compute attention output
        attn_out, _ = self.mha(h, h, h)
        post_attn = self.norm(h + attn_out)  # (B, seq, D)
        # Post-attn per head view
        post_heads = post_attn.view(B, S, n_heads, head_dim)
        acts = {}
        for i in range(n_heads):
            acts[f"act_Q_h{i}"] = q[:, :, i, :].reshape(-1, head_dim)
            acts[f"act_K_h{i}"] = k[:, :, i, :].reshape(-1, head_dim)
            acts[f"act_V_h{i}"] = v[:, :, i, :].reshape(-1, head_dim)
            acts[f"act_post_h{i}"] = post_heads[:, :, i, :].reshape(-1, head_dim)
        # Also full-dim activations
        acts["act_emb"] = h.reshape(-1, D)
        acts["act_post_full"] = post_attn.reshape(-1, D)
        return acts

    def get_qkv_weights(self):
        """Extract Q, K, V projection weight matrices."""
        # nn.MultiheadAttention packs Q, K, V into in_proj_weight: (3*dim, dim)
        w = self.mha.in_proj_weight.detach()
        d = w.shape[1]
        q_w = w[:d]  # (dim, dim)
        k_w = w[d:2*d]  # (dim, dim)
        v_w = w[2*d:]  # (dim, dim)
        return q_w, k_w, v_w

    def get_per_head_projections(self, n_heads):
        """Split Q/K/V weights into per-head chunks. Returns list of (head_dim, dim) per head."""
        q_w, k_w, v_w = self.get_qkv_weights()
        d = q_w.shape[0]
        head_dim = d // n_heads
        q_heads = [q_w[i*head_dim:(i+1)*head_dim] for i in range(n_heads)]
        k_heads = [k_w[i*head_dim:(i+1)*head_dim] for i in range(n_heads)]
        v_heads = [v_w[i*head_dim:(i+1)*head_dim] for i in range(n_heads)]
        return q_heads, k_heads, v_heads


# ── Data: 10 noise patterns with perturbations ──
def make_data(n_classes=10, samples_per_class=50, seq_len=8, vocab=256):
    """Create simple classification data. Each class has a base token pattern with noise."""
    torch.manual_seed(42)
    # Base patterns: each class gets a fixed token sequence
    base_patterns = torch.randint(0, vocab, (n_classes, seq_len))
    all_x, all_y = [], []
    for cls in range(n_classes):
        for _ in range(samples_per_class):
            pattern = base_patterns[cls].clone()
            # Perturb ~25% of positions
            mask = torch.rand(seq_len) < 0.25
            pattern[mask] = torch.randint(0, vocab, (mask.sum(),))
            all_x.append(pattern)
            all_y.append(cls)
    x = torch.stack(all_x)
    y = torch.tensor(all_y)
    perm = torch.randperm(len(x))
    return x[perm], y[perm]


# ── CV measurement suite ──
def measure_all_cv(model, n_heads, x=None):
    """Measure CV on all relevant weight matrices and activations."""
    results = {}
    # Embedding weights
    emb_w = model.emb.weight.detach()
    results["emb"] = cv_metric(emb_w)
    # Full Q, K, V projection matrices (dim × dim)
    q_w, k_w, v_w = model.get_qkv_weights()
    results["Q_full"] = cv_metric(q_w)
    results["K_full"] = cv_metric(k_w)
    results["V_full"] = cv_metric(v_w)
    # Per-head projections (head_dim × dim) — CV measured on head_dim rows
    q_heads, k_heads, v_heads = model.get_per_head_projections(n_heads)
    for i in range(n_heads):
        results[f"Q_h{i}"] = cv_metric(q_heads[i])
        results[f"K_h{i}"] = cv_metric(k_heads[i])
        results[f"V_h{i}"] = cv_metric(v_heads[i])
    # Output projection
    out_w = model.mha.out_proj.weight.detach()
    results["out_proj"] = cv_metric(out_w)
    # Classifier head
    head_w = model.head.weight.detach()
    results["cls_head"] = cv_metric(head_w)
    # Activations — the space where attention actually operates
    if x is not None:
        model.eval()
        acts = model.forward_activations(x, n_heads)
        for name, tensor in acts.items():
            results[name] = cv_metric(tensor)
    return results


def fmt_cv(cv):
    if cv is None:
        return "  N/A  "
    band = "*" if 0.13 < cv < 0.30 else " "
    return f"{band}{cv:.4f}{band}"


# ── Training + measurement loop ──
def run_experiment(dim, n_heads, vocab=256, seq_len=8, n_classes=10, epochs=50, lr=1e-3):
    head_dim = dim // n_heads
    print(f"\n{'='*70}")
    print(f"D={dim}  heads={n_heads}  head_dim={head_dim}")
    print(f"{'='*70}")
    x, y = make_data(n_classes=n_classes, seq_len=seq_len, vocab=vocab)
    model = MHAClassifier(vocab, dim, n_heads, seq_len, n_classes)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    # Pre-training CV
    print(f"\n  [pre-train]")
    pre_cv = measure_all_cv(model, n_heads, x)
    for k, v in pre_cv.items():
        print(f"    {k:16s}: {fmt_cv(v)}")
    # Training
    mid_cv = None
    for epoch in range(1, epochs + 1):
        model.train()
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        if epoch == epochs // 2:
            model.eval()
            with torch.no_grad():
                acc = (model(x).argmax(-1) == y).float().mean().item()
            mid_cv = measure_all_cv(model, n_heads, x)
            print(f"\n  [epoch {epoch}] loss={loss.item():.4f} acc={acc:.2%}")
            for k, v in mid_cv.items():
                print(f"    {k:16s}: {fmt_cv(v)}")
    # Post-training CV
    model.eval()
    with torch.no_grad():
        acc = (model(x).argmax(-1) == y).float().mean().item()
    print(f"\n  [post-train] loss={loss.item():.4f} acc={acc:.2%}")
    post_cv = measure_all_cv(model, n_heads, x)
    for k, v in post_cv.items():
        pre = pre_cv.get(k)
        delta = ""
        if v is not None and pre is not None:
            d = v - pre
            delta = f"  Δ={d:+.4f}"
        print(f"    {k:16s}: {fmt_cv(v)}{delta}")
    return {
        "dim": dim, "n_heads": n_heads, "head_dim": head_dim,
        "pre": pre_cv, "mid": mid_cv, "post": post_cv, "acc": acc,
    }


SEED_003_CONFIGS = [(64, 1), (64, 2), (64, 4), (64, 8), (128, 1), (128, 2), (128, 4), (128, 8),
                    (256, 1), (256, 2), (256, 4), (256, 8)]


# ===================== seed 000 (value matrix playground), experiments 1-5, unchanged =====================

def experiment_1_compression():
    d_model = 512
    d_v = 64
    n_tokens = 10
    X = torch.randn(n_tokens, d_model)
    W_V = torch.randn(d_model, d_v) / np.sqrt(d_model)
    V = torch.mm(X, W_V)
    W_V_pinv = torch.pinverse(W_V)
    X_reconstructed = torch.mm(V, W_V_pinv)
    mse = torch.mean((X - X_reconstructed) ** 2).item()
    relative_error = mse / torch.mean(X ** 2).item()
    print(f"\nReconstruction MSE: {mse:.6f}")
    print(f"Relative error: {relative_error:.2%}")
    U, S, Vh = torch.svd(W_V)
    print(S[:10].numpy())
    total_variance = torch.sum(S ** 2)
    cumsum = torch.cumsum(S ** 2, dim=0) / total_variance
    effective_rank = torch.sum(cumsum < 0.95).item() + 1
    print(f"\nEffective rank (95% variance): {effective_rank}")
    return X, V, W_V, S


def experiment_2_multihead():
    d_model = 512
    n_tokens = 20
    X = torch.randn(n_tokens, d_model)
    d_v_single = 512
    W_V_single = torch.randn(d_model, d_v_single) / np.sqrt(d_model)
    V_single = torch.mm(X, W_V_single)
    n_heads = 8
    d_v_per_head = 64
    V_multi = []
    for i in range(n_heads):
        W_V_head = torch.randn(d_model, d_v_per_head) / np.sqrt(d_model)
        V_head = torch.mm(X, W_V_head)
        V_multi.append(V_head)
    V_multi_concat = torch.cat(V_multi, dim=1)
    correlations = []
    for i in range(n_heads):
        for j in range(i + 1, n_heads):
            corr = torch.corrcoef(torch.stack([
                V_multi[i].flatten(),
                V_multi[j].flatten()
            ]))[0, 1].item()
            correlations.append(abs(corr))
    avg_correlation = np.mean(correlations)
    print(f"\nAverage absolute correlation between heads: {avg_correlation:.3f}")
    return V_single, V_multi


def experiment_3_retrieval():
    n_tokens = 8
    d_v = 64
    V = torch.zeros(n_tokens, d_v)
    V[0, :32] = 1.0
    V[1, :32] = 0.8
    V[2, 16:48] = 1.0
    V[3, 16:48] = 0.7
    V[4, 32:] = 1.0
    V[5, 32:] = 0.9
    V[6:] += torch.randn(2, d_v) * 0.1
    alpha_uniform = torch.ones(n_tokens) / n_tokens
    output_uniform = torch.mv(V.t(), alpha_uniform)
    alpha_person = torch.zeros(n_tokens)
    alpha_person[0:2] = 0.5
    output_person = torch.mv(V.t(), alpha_person)
    alpha_location = torch.zeros(n_tokens)
    alpha_location[2:4] = 0.5
    output_location = torch.mv(V.t(), alpha_location)
    alpha_mixed = torch.zeros(n_tokens)
    alpha_mixed[0:2] = 0.3
    alpha_mixed[4:6] = 0.2
    output_mixed = torch.mv(V.t(), alpha_mixed)
    for out in (output_uniform, output_person, output_location, output_mixed):
        print(f"  Output norm: {torch.norm(out):.3f}")
        print(f"  Person dims [0-31]: {torch.norm(out[:32]):.3f}")
        print(f"  Location dims [16-47]: {torch.norm(out[16:48]):.3f}")
        print(f"  Action dims [32-63]: {torch.norm(out[32:]):.3f}")
    return V, [alpha_uniform, alpha_person, alpha_location, alpha_mixed]


def experiment_4_kv_cache():
    configs = {
        "GPT-2 Small": {"n_layers": 12, "n_heads": 12, "d_v": 64},
        "GPT-2 Large": {"n_layers": 36, "n_heads": 20, "d_v": 64},
        "LLaMA-7B": {"n_layers": 32, "n_heads": 32, "d_v": 128},
        "LLaMA-13B": {"n_layers": 40, "n_heads": 40, "d_v": 128},
    }
    sequence_lengths = [512, 1024, 2048, 4096]
    precision_bytes = 2
    for model_name, config in configs.items():
        for seq_len in sequence_lengths:
            memory_bytes = 2 * seq_len * config['d_v'] * config['n_heads'] * config['n_layers'] * precision_bytes
            memory_mb = memory_bytes / (1024 ** 2)
            print(f"    Seq len {seq_len}: {memory_mb:.1f} MB")
    model_name = "LLaMA-7B"
    config = configs[model_name]
    seq_len = 2048
    standard_memory = 2 * seq_len * config['d_v'] * config['n_heads'] * config['n_layers'] * precision_bytes
    mqa_memory = 2 * seq_len * config['d_v'] * 1 * config['n_layers'] * precision_bytes
    n_kv_heads_gqa = 4
    gqa_memory = 2 * seq_len * config['d_v'] * n_kv_heads_gqa * config['n_layers'] * precision_bytes
    print(f"  Standard attention: {standard_memory / (1024**2):.1f} MB")
    print(f"  MQA (1 KV head): {mqa_memory / (1024**2):.1f} MB")
    print(f"  GQA ({n_kv_heads_gqa} KV heads): {gqa_memory / (1024**2):.1f} MB")


def experiment_5_learning():
    d_model = 16
    d_v = 4
    n_samples = 100
    X = torch.randn(n_samples, d_model)
    X[:, :3] = torch.randn(n_samples, 3) * 2
    Y = X[:, :3]
    W_V = nn.Parameter(torch.randn(d_model, d_v) / np.sqrt(d_model))
    W_out = nn.Parameter(torch.randn(d_v, 3) / np.sqrt(d_v))
    optimizer = torch.optim.Adam([W_V, W_out], lr=0.01)
    losses = []
    for epoch in range(500):
        V = torch.mm(X, W_V)
        Y_pred = torch.mm(V, W_out)
        loss = torch.mean((Y - Y_pred) ** 2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if epoch % 100 == 0:
            print(f"  Epoch {epoch}: Loss = {loss.item():.6f}")
    print(f"\nFinal loss: {losses[-1]:.6f}")
    W_V_learned = W_V.detach()
    color_weights = torch.norm(W_V_learned[:3, :], dim=1)
    noise_weights = torch.norm(W_V_learned[3:, :], dim=1)
    print(f"  Ratio: {torch.mean(color_weights) / torch.mean(noise_weights):.2f}x")
    return W_V_learned, losses


def value_matrix_all():
    np.random.seed(42)
    torch.manual_seed(42)
    experiment_1_compression()
    experiment_2_multihead()
    experiment_3_retrieval()
    experiment_4_kv_cache()
    _, losses = experiment_5_learning()
    return losses


# ===================== timing =====================

def timed(fn, repeat=1):
    """Best of `repeat` wall times (seconds) and the last result; the seeds' prints are discarded."""
    best, result = math.inf, None
    for _ in range(repeat):
        with contextlib.redirect_stdout(io.StringIO()):
            t0 = time.perf_counter()
            result = fn()
            best = min(best, time.perf_counter() - t0)
    return best, result


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--rows', default='cv-one,cv-preset,value-matrix')
    p.add_argument('--config', default='64,4', help='D,heads of the one-configuration row')
    p.add_argument('--threads', type=int, default=0, help='torch threads (0: torch default)')
    p.add_argument('--repeat', type=int, default=3, help='value-matrix repetitions (best taken)')
    args = p.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    rows = args.rows.split(',')
    out = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'rows': []}
    if 'cv-one' in rows:
        dim, heads = (int(s) for s in args.config.split(','))
        secs, r = timed(lambda: run_experiment(dim, heads))
        out['rows'].append({'name': 'cv-sweep one configuration', 'width': dim, 'heads': heads, 'seconds': secs, 'accuracy': r['acc']})
    if 'cv-preset' in rows:
        per = []

        def preset():
            for dim, heads in SEED_003_CONFIGS:
                t0 = time.perf_counter()
                r = run_experiment(dim, heads)
                per.append({'width': dim, 'heads': heads, 'seconds': time.perf_counter() - t0, 'accuracy': r['acc']})
        secs, _ = timed(preset)
        out['rows'].append({'name': 'cv-sweep seed preset', 'seconds': secs, 'configurations': per})
    if 'value-matrix' in rows:
        secs, losses = timed(value_matrix_all, args.repeat)
        secs5, _ = timed(experiment_5_learning, args.repeat)
        out['rows'].append({'name': 'value-matrix', 'seconds': secs, 'finalLoss': losses[-1]})
        out['rows'].append({'name': 'value-matrix learning (experiment 5)', 'seconds': secs5})
    print(json.dumps(out))


if __name__ == '__main__':
    main()
