# Independent float64 numpy reference for MLA (DeepSeek-V2 eqs. 9-19, naive form, interleaved RoPE).
import numpy as np
rng = np.random.default_rng(4)
B, T, D, H, r, rq, dn, dr, dv = 1, 3, 6, 2, 3, 4, 2, 2, 2
def w(i, o): return np.round(rng.uniform(-1, 1, (i, o)), 3)  # 3-decimal weights: exact to paste
W = dict(wDQ=w(D, rq), wUQ=w(rq, H*dn), wQR=w(rq, H*dr), wDKV=w(D, r), wUK=w(r, H*dn), wUV=w(r, H*dv), wKR=w(D, dr), wO=w(H*dv, D))
x = np.round(rng.uniform(-1, 1, (B, T, D)), 3)
def rope(z, pos):
    d = z.shape[-1]; th = 10000.0 ** (-2 * np.arange(d // 2) / d); ang = pos[:, None] * th[None]
    c, s = np.cos(ang), np.sin(ang); a, b = z[..., 0::2], z[..., 1::2]
    out = np.empty_like(z); out[..., 0::2] = a * c - b * s; out[..., 1::2] = a * s + b * c; return out
pos = np.arange(T, dtype=float)
cq = x @ W['wDQ']; ckv = x @ W['wDKV']
kR = rope(x @ W['wKR'], pos)                       # [B, T, dr] shared
out = np.zeros((B, T, H * dv)); A = np.zeros((B, H, T, T))
for h in range(H):
    qc = cq @ W['wUQ'][:, h*dn:(h+1)*dn]
    qr = rope(cq @ W['wQR'][:, h*dr:(h+1)*dr], pos)
    kc = ckv @ W['wUK'][:, h*dn:(h+1)*dn]
    v = ckv @ W['wUV'][:, h*dv:(h+1)*dv]
    q = np.concatenate([qc, qr], -1); k = np.concatenate([kc, kR], -1)
    s = q @ k.transpose(0, 2, 1) / np.sqrt(dn + dr)
    s = np.where(np.tril(np.ones((T, T))) > 0, s, -np.inf)
    a = np.exp(s - s.max(-1, keepdims=True)); a /= a.sum(-1, keepdims=True)
    A[:, h] = a; out[..., h*dv:(h+1)*dv] = a @ v
y = out @ W['wO']
f = lambda a: '[' + ', '.join('%.10g' % v for v in np.asarray(a).reshape(-1)) + ']'
print('export const latentAttention = {')
print(f'  B: {B}, T: {T}, dModel: {D}, numHeads: {H}, kvLoraRank: {r}, qLoraRank: {rq}, qkNopeHeadDim: {dn}, qkRopeHeadDim: {dr}, vHeadDim: {dv},')
for k_, v_ in W.items(): print(f'  {k_}: {f(v_)},')
print(f'  x: {f(x)},\n  causalOutput: {f(y)},\n  causalWeights: {f(A)},')
print('};')
