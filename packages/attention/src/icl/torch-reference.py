# Reference values for packages/attention/src/icl tests, from PyTorch 1.13 (Debian python3-torch):
# seed 004's MultiHeadAttention (query-only) re-typed from the seed, and its causal stack with ONE
# masked softmax (strictly preceding tokens; a row with nothing to attend to gives weights 0).
import json, math, numpy as np, torch, torch.nn as nn
torch.set_default_dtype(torch.float64)
rs = np.random.RandomState(0)
def T(a): return torch.tensor(a)
def r(*shape, s=0.6): return np.round(rs.uniform(-s, s, size=shape), 3)

class MHA(nn.Module):  # seed 004 MultiHeadAttention, bias=False
    def __init__(s, n_embd, n_head, n_out):
        super().__init__(); s.n_embd=n_embd; s.n_head=n_head
        s.q_proj=nn.Linear(n_embd, n_embd*n_head, bias=False); s.k_proj=nn.Linear(n_embd, n_embd*n_head, bias=False)
        s.v_proj=nn.Linear(n_embd, n_embd*n_head, bias=False); s.o_proj=nn.Linear(n_embd*n_head, n_out, bias=False)
    def forward(s, z_q, z):
        B, L, _ = z.shape
        q = s.q_proj(z_q).view(B, 1, s.n_head, s.n_embd).permute(0,2,1,3)
        k = s.k_proj(z).view(B, L, s.n_head, s.n_embd).permute(0,2,1,3)
        v = s.v_proj(z).view(B, L, s.n_head, s.n_embd).permute(0,2,1,3)
        w = torch.softmax(q @ k.transpose(-2,-1) * s.n_embd**-0.5, dim=-1)
        o = (w @ v).permute(0,2,1,3).reshape(B, 1, s.n_embd*s.n_head)
        return s.o_proj(o), w

def stats(qks, ovs, d, W_out=None):
    # seed's calculate_statistics, per (layer, head); qks/ovs: lists of lists of (W_Q, W_K) / (W_V, W_O) (x·W orientation)
    out = []
    n_layers = len(qks)
    for l, layer in enumerate(qks):
        for h, (WQ, WK) in enumerate(layer):
            QK = (WQ @ WK.T) / np.sqrt(d + 1)
            dg = np.diag(QK); w_h = np.mean(dg[:d]); var = np.var(dg[:d])
            blk = QK[:d, :d]; sup = np.max(np.abs(blk[~np.eye(d, dtype=bool)]))
            WV, WO = ovs[l][h]
            OV = WV @ WO @ W_out if (l == n_layers - 1 and n_layers > 1) else WV @ WO
            out.append(dict(w=w_h, diagVariance=var, offDiagSupNorm=sup, mu=OV[-1, -1], ovRestSupNorm=np.max(np.abs(OV[:d, -1])),
                            qk=QK.ravel().tolist(), ov=OV.ravel().tolist()))
    return out

d, H, L, B = 2, 2, 4, 2; D = d + 1
W = dict(qProj=r(H*D, D), kProj=r(H*D, D), vProj=r(H*D, D), oProj=r(1, H*D))
Z = np.round(rs.normal(size=(B, L, D)), 3); zq = np.round(rs.normal(size=(B, D)), 3); zq[:, -1] = 0; y = np.round(rs.normal(size=(B, 1)), 3)
m = MHA(D, H, 1)
with torch.no_grad():
    for k, name in [('qProj','q_proj'),('kProj','k_proj'),('vProj','v_proj'),('oProj','o_proj')]: getattr(m, name).weight.copy_(T(W[k]))
out, w = m(T(zq)[:, None, :], T(Z))
loss = torch.mean((out[:, 0, :] - T(y))**2)
loss.backward()
pT = lambda t: t.detach().numpy()
def split(Wp):  # torch [H*D, D] -> per-head x·W [D, D]
    return [Wp[h*D:(h+1)*D, :].T for h in range(H)]
qks = [[(a, b) for a, b in zip(split(W['qProj']), split(W['kProj']))]]
ovs = [[(split(W['vProj'])[h], W['oProj'][:, h*D:(h+1)*D].T) for h in range(H)]]
single = dict(d=d, H=H, L=L, B=B, weights={k: v.ravel().tolist() for k, v in W.items()}, Z=Z.ravel().tolist(), zq=zq.ravel().tolist(), y=y.ravel().tolist(),
  output=pT(out).ravel().tolist(), attn=pT(w).ravel().tolist(), loss=loss.item(),
  grads={k: pT(getattr(m, n).weight.grad).ravel().tolist() for k, n in [('qProj','q_proj'),('kProj','k_proj'),('vProj','v_proj'),('oProj','o_proj')]},
  stats=stats(qks, ovs, d))

def causal_stack(layers, final, Z, zq, residual):
    x = torch.cat([T(Z), T(zq)[:, None, :]], 1); Bn, Tn, _ = x.shape
    mask = torch.tril(torch.ones(Tn, Tn), diagonal=-1).bool()
    for (Wq, Wk, Wv, Wo) in layers:
        q = (x @ T(Wq).T).view(Bn, Tn, H, D).permute(0,2,1,3)
        k = (x @ T(Wk).T).view(Bn, Tn, H, D).permute(0,2,1,3)
        v = (x @ T(Wv).T).view(Bn, Tn, H, D).permute(0,2,1,3)
        s = (q @ k.transpose(-2,-1)) * D**-0.5
        s = s.masked_fill(~mask, float('-inf'))
        w = torch.softmax(s, -1); w = torch.nan_to_num(w, nan=0.0)  # row 0: all masked -> 0
        o = (w @ v).permute(0,2,1,3).reshape(Bn, Tn, H*D) @ T(Wo).T
        x = x + o if residual else o
    return (x[:, -1, :] @ T(final).T).numpy()

Ls = 3
Zs = np.round(rs.normal(size=(B, Ls, D)), 3); zqs = np.round(rs.normal(size=(B, D)), 3); zqs[:, -1] = 0
layers = [dict(q=r(H*D, D, s=0.9), k=r(H*D, D, s=0.9), v=r(H*D, D, s=0.9), o=r(D, H*D, s=0.9)) for _ in range(2)]
final = r(1, D, s=0.9)
as_t = lambda ly: (ly['q'], ly['k'], ly['v'], ly['o'])
def stack_stats(lys):
    qks = [[(a, b) for a, b in zip(split(ly['q']), split(ly['k']))] for ly in lys]
    ovs = [[(split(ly['v'])[h], ly['o'][:, h*D:(h+1)*D].T) for h in range(H)] for ly in lys]
    return stats(qks, ovs, d, final.T)
stack = dict(L=Ls, Z=Zs.ravel().tolist(), zq=zqs.ravel().tolist(),
  layers=[{k: v.ravel().tolist() for k, v in ly.items()} for ly in layers], final=final.ravel().tolist(),
  untied=causal_stack([as_t(l) for l in layers], final, Zs, zqs, False).ravel().tolist(),
  untiedResidual=causal_stack([as_t(l) for l in layers], final, Zs, zqs, True).ravel().tolist(),
  tied3=causal_stack([as_t(layers[0])]*3, final, Zs, zqs, False).ravel().tolist(),
  statsUntied=stack_stats(layers), statsTied3=stack_stats([layers[0]]*3))
print(json.dumps(dict(single=single, stack=stack)))
