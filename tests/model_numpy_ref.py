"""Independent float64 numpy implementation of the M3ViT backbone, written from the definition
(python_ref/model/float_model.py docstring) without torch, to check the PyTorch model against.
Works directly on the Edge-MoE-named tensors (dict name -> array)."""
from __future__ import annotations

import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def layernorm(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def embed(cfg, w, image):
    """Patch embedding by explicit patch extraction (no convolution), CLS slot, position."""
    m = cfg.model
    P = m.patch_size
    img = np.asarray(image, np.float64)
    rows = []
    for i in range(m.patches_h):
        for j in range(m.patches_w):
            rows.append(img[:, i * P:(i + 1) * P, j * P:(j + 1) * P].reshape(-1))
    patches = np.stack(rows) @ w["patch_embed_weight"].astype(np.float64).reshape(m.dim, -1).T
    patches = patches + w["patch_embed_bias"]
    x = np.vstack([np.zeros((1, m.dim)), patches]) + w["pos_embed"]
    return patches, x


def attention_half(cfg, w, L, x):
    """x + attn(LN1(x)) and LN2 of it; returns dict of intermediates."""
    m = cfg.model
    f = lambda n: w[f"l{L}_{n}"].astype(np.float64)  # noqa: E731
    T, D, H, d = x.shape[0], m.dim, m.heads, m.head_dim
    r = {}
    r["ln1"] = h = layernorm(x, f("norm1_weight"), f("norm1_bias"), m.layernorm_eps)
    r["qkv"] = qkv = h @ f("qkv_weight").T + f("qkv_bias")
    scores = np.empty((H, T, T))
    out = np.empty((T, D))
    for i in range(H):
        q = qkv[:, i * d:(i + 1) * d]
        k = qkv[:, D + i * d:D + (i + 1) * d]
        v = qkv[:, 2 * D + i * d:2 * D + (i + 1) * d]
        scores[i] = (q @ k.T) / math.sqrt(d)
        out[:, i * d:(i + 1) * d] = softmax(scores[i]) @ v
    r["attn_scores"] = scores
    r["attn_probs"] = softmax(scores)
    r["attn_out"] = out
    r["proj"] = out @ f("attn_proj_weight").T + f("attn_proj_bias")
    r["res1"] = x + r["proj"]
    r["ln2"] = layernorm(r["res1"], f("norm2_weight"), f("norm2_bias"), m.layernorm_eps)
    return r


def gate(cfg, w, L, h, task):
    """Gate logits, probabilities and the top-k (largest first, ties to the lower index) per token."""
    logits = h @ w[f"l{L}_w_gate_T_task{task}"].astype(np.float64).T
    probs = softmax(logits)
    idx = np.array([sorted(range(probs.shape[1]), key=lambda e: (-p[e], e))[:cfg.model.top_k] for p in probs])
    return logits, probs, idx


def block(cfg, w, L, x, task):
    m = cfg.model
    r = attention_half(cfg, w, L, x)
    h = r["ln2"]
    f = lambda n: w[f"l{L}_{n}"].astype(np.float64)  # noqa: E731
    if m.is_moe_layer(L):
        r["gate_logits"], r["gate_probs"], idx = gate(cfg, w, L, h, task)
        r["topk_idx"] = idx
        r["topk_prob"] = np.take_along_axis(r["gate_probs"], idx, axis=1)
        W1, b1, W2, b2 = f("htoh4_weight"), f("htoh4_bias"), f("h4toh_weight"), f("h4toh_bias")
        T, K = idx.shape
        fc1 = np.empty((T, K, m.expert_hidden))
        fc2 = np.empty((T, K, m.dim))
        moe = np.zeros((T, m.dim))
        for t in range(T):
            for j in range(K):
                e = idx[t, j]
                fc1[t, j] = W1[e] @ h[t] + b1[e]
                fc2[t, j] = W2[e] @ gelu(fc1[t, j]) + b2[e]
                moe[t] += r["topk_prob"][t, j] * fc2[t, j]
        r["expert_fc1"], r["expert_gelu"], r["expert_fc2"], r["moe"] = fc1, gelu(fc1), fc2, moe
        mlp = moe
    else:
        r["fc1"] = h @ f("fc1_weight").T + f("fc1_bias")
        r["gelu"] = gelu(r["fc1"])
        r["fc2"] = mlp = r["gelu"] @ f("fc2_weight").T + f("fc2_bias")
    r["out"] = r["res1"] + mlp
    return r


def forward(cfg, w, image, task):
    """Every captured tensor under the model's names."""
    caps = {"input": np.asarray(image, np.float64)}
    caps["patch_embed"], x = embed(cfg, w, image)
    caps["embed"] = x
    for L in range(cfg.model.layers):
        r = block(cfg, w, L, x, task)
        caps.update({f"layer{L}.{k}": v for k, v in r.items()})
        x = r["out"]
    return x, caps
