# Reference numbers for packages/attention/src/fixtures/pytorch-mha.ts (Debian python3-torch 1.13, CPU, float32).
import torch
torch.manual_seed(0)
def f(t):
    t = t.detach().reshape(-1).tolist()
    return '[' + ', '.join('%.9g' % v for v in t) + ']'
out = []
B, T, E, H = 2, 4, 8, 2
m = torch.nn.MultiheadAttention(E, H, batch_first=True)
with torch.no_grad():
    m.in_proj_bias.uniform_(-0.5, 0.5); m.out_proj.bias.uniform_(-0.5, 0.5)
x = torch.randn(B, T, E)
o, w = m(x, x, x, need_weights=True, average_attn_weights=False)
causal = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)  # True = NOT allowed
oc, wc = m(x, x, x, attn_mask=causal, need_weights=True, average_attn_weights=False)
_, wca = m(x, x, x, attn_mask=causal, need_weights=True, average_attn_weights=True)
out.append('export const selfAttention = {')
out.append(f'  B: {B}, T: {T}, embedDim: {E}, numHeads: {H},')
out.append(f'  inProjWeight: {f(m.in_proj_weight)},')
out.append(f'  inProjBias: {f(m.in_proj_bias)},')
out.append(f'  outProjWeight: {f(m.out_proj.weight)},')
out.append(f'  outProjBias: {f(m.out_proj.bias)},')
out.append(f'  x: {f(x)},')
out.append(f'  output: {f(o)},')
out.append(f'  weights: {f(w)},')
out.append(f'  causalOutput: {f(oc)},')
out.append(f'  causalWeights: {f(wc)},')
out.append(f'  causalAveragedWeights: {f(wca)},')
out.append('};')
# cross-attention, kdim/vdim != E, key padding
Tk, kd, vd = 3, 6, 5
m2 = torch.nn.MultiheadAttention(E, H, kdim=kd, vdim=vd, batch_first=True)
with torch.no_grad():
    m2.in_proj_bias.uniform_(-0.5, 0.5); m2.out_proj.bias.uniform_(-0.5, 0.5)
q = torch.randn(B, T, E); k = torch.randn(B, Tk, kd); v = torch.randn(B, Tk, vd)
kpm = torch.tensor([[False, False, False], [False, False, True]])  # True = padding (ignored)
o2, w2 = m2(q, k, v, key_padding_mask=kpm, average_attn_weights=False)
out.append('export const crossAttention = {')
out.append(f'  B: {B}, Tq: {T}, Tk: {Tk}, embedDim: {E}, numHeads: {H}, kdim: {kd}, vdim: {vd},')
out.append('  // key_padding_mask (PyTorch, True = ignore): [[F, F, F], [F, F, T]]; ours is its negation.')
for name in ['q_proj_weight', 'k_proj_weight', 'v_proj_weight', 'in_proj_bias']:
    out.append(f'  {name}: {f(getattr(m2, name))},')
out.append(f'  outProjWeight: {f(m2.out_proj.weight)},')
out.append(f'  outProjBias: {f(m2.out_proj.bias)},')
out.append(f'  query: {f(q)},\n  key: {f(k)},\n  value: {f(v)},')
out.append(f'  output: {f(o2)},\n  weights: {f(w2)},')
out.append('};')
# GQA: H = 4 query heads, 2 KV heads, explicit torch ops with repeat_interleave
H, Hkv, d = 4, 2, 2
Wq = torch.randn(H * d, E) / E ** 0.5; Wk = torch.randn(Hkv * d, E) / E ** 0.5; Wv = torch.randn(Hkv * d, E) / E ** 0.5
bq = torch.randn(H * d) * 0.3; bk = torch.randn(Hkv * d) * 0.3; bv = torch.randn(Hkv * d) * 0.3
Wo = torch.randn(E, E) / E ** 0.5; bo = torch.randn(E) * 0.3
xg = torch.randn(B, T, E)
Q = (xg @ Wq.T + bq).view(B, T, H, d).transpose(1, 2)
K = (xg @ Wk.T + bk).view(B, T, Hkv, d).transpose(1, 2).repeat_interleave(H // Hkv, dim=1)
V = (xg @ Wv.T + bv).view(B, T, Hkv, d).transpose(1, 2).repeat_interleave(H // Hkv, dim=1)
s = Q @ K.transpose(-1, -2) / d ** 0.5
s = s.masked_fill(causal, float('-inf'))
A = torch.softmax(s, -1)
og = (A @ V).transpose(1, 2).reshape(B, T, E) @ Wo.T + bo
out.append('export const groupedQuery = {')
out.append(f'  B: {B}, T: {T}, embedDim: {E}, numHeads: {H}, numKvHeads: {Hkv},')
out.append(f'  inProjWeight: {f(torch.cat([Wq, Wk, Wv]))},')
out.append(f'  inProjBias: {f(torch.cat([bq, bk, bv]))},')
out.append(f'  outProjWeight: {f(Wo)},\n  outProjBias: {f(bo)},')
out.append(f'  x: {f(xg)},\n  causalOutput: {f(og)},\n  causalWeights: {f(A)},')
out.append('};')
print('\n'.join(out))
