"""Float PyTorch model of the M3ViT backbone exactly as Edge-MoE computes it (the golden reference
that the fixed-point kernels, the C-sim and the RTL are compared against).

Network (all sizes from the config; ``D`` dim, ``T`` tokens, ``h`` heads, ``d = D/h``):

* patch embedding: Conv2d(C, D, kernel P, stride P) -> (N, D) with the patches in raster order
  (row of patches, then column), i.e. ``x_n = W_pe . patch_n + b_pe``;
* CLS + position: ``embed = [0; patches] + pos_embed``. As in Edge-MoE's published weights,
  ``pos_embed`` row 0 already holds cls_token + pos[0], so there is no separate CLS parameter;
* L pre-norm blocks, ``x = x + attn(LN1(x))`` then ``x = x + mlp(LN2(x))``:

  - LayerNorm over D with the config's eps (biased variance, affine);
  - ``qkv = LN1(x) @ W_qkv.T + b_qkv``, rows of W_qkv are Q | K | V, head i uses columns
    ``i*d .. (i+1)*d`` of each;
  - ``scores = (q @ k.T) * d**-0.5`` (scaled after the product; the scale is exact for d = 64),
    ``probs = softmax(scores)`` per row, ``attn_out = probs @ v`` with the heads concatenated in
    order, ``proj = attn_out @ W_proj.T + b_proj``;
  - even layers, dense MLP: ``fc2(GELU(fc1(x)))`` (D -> mlp_hidden -> D), exact erf GELU;
  - odd layers, mixture of experts (M3ViT's noisy_vmoe gate at inference): ``logits = x @
    W_gate[task].T`` (no bias, one gate per task, the task chosen per call), ``probs = softmax``
    over all E experts, the top-k experts by probability with ties going to the lower expert index,
    their probabilities kept as they are (NOT renormalized), each expert
    ``fc2_e(GELU(fc1_e(x)))`` (D -> expert_hidden -> D), output ``sum_j p_j * expert_{i_j}(x)``
    summed in slot order (slot 0 = most probable);
* no final LayerNorm: the output is the last block's output (T, D).

Capture (``model(x, task, capture=True)`` returns ``(output, OrderedDict)``), names for an
unbatched input (a batched input adds the batch dimension in front of every tensor):

==========================  =================  ===============================================
name                        shape              value
==========================  =================  ===============================================
``input``                   (C, H, W)          the pixels
``patch_embed``             (N, D)             convolution output, raster order
``embed``                   (T, D)             ``[0; patch_embed] + pos_embed`` (input of layer 0)
``layer{L}.ln1``            (T, D)             LN1(x)
``layer{L}.qkv``            (T, 3D)            Q | K | V
``layer{L}.attn_scores``    (h, T, T)          ``q k^T * d**-0.5``
``layer{L}.attn_probs``     (h, T, T)          softmax of the scores (per row)
``layer{L}.attn_out``       (T, D)             ``probs @ v``, heads concatenated
``layer{L}.proj``           (T, D)             attention projection output
``layer{L}.res1``           (T, D)             ``x + proj``
``layer{L}.ln2``            (T, D)             LN2(res1)
``layer{L}.fc1``            (T, mlp_hidden)    dense layers only
``layer{L}.gelu``           (T, mlp_hidden)    dense layers only
``layer{L}.fc2``            (T, D)             dense layers only (the MLP output)
``layer{L}.gate_logits``    (T, E)             MoE layers only
``layer{L}.gate_probs``     (T, E)             MoE layers only
``layer{L}.topk_idx``       (T, k) int64       chosen experts, most probable first
``layer{L}.topk_prob``      (T, k)             their probabilities (not renormalized)
``layer{L}.expert_fc1``     (T, k, Hx)         fc1 of the expert in slot j for each token
``layer{L}.expert_gelu``    (T, k, Hx)
``layer{L}.expert_fc2``     (T, k, D)          expert outputs before weighting
``layer{L}.moe``            (T, D)             ``sum_j p_j * expert_fc2[:, j]`` (the MLP output)
``layer{L}.out``            (T, D)             ``res1 + mlp``: the block output
==========================  =================  ===============================================
"""
from __future__ import annotations

import re
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..config import Config
from .weights import WeightSet, tensor_shapes


class ModelInputError(ValueError):
    """Bad input image, task or dtype (names the problem)."""


def capture_shapes(cfg: Config) -> "OrderedDict[str, tuple]":
    """Every captured tensor name with its shape (unbatched), in capture order."""
    m = cfg.model
    T, D = m.tokens, m.dim
    s: OrderedDict[str, tuple] = OrderedDict()
    s["input"] = (m.channels, m.height, m.width)
    s["patch_embed"] = (m.num_patches, D)
    s["embed"] = (T, D)
    for L in range(m.layers):
        p = f"layer{L}."
        s[p + "ln1"] = (T, D)
        s[p + "qkv"] = (T, 3 * D)
        s[p + "attn_scores"] = (m.heads, T, T)
        s[p + "attn_probs"] = (m.heads, T, T)
        s[p + "attn_out"] = (T, D)
        s[p + "proj"] = (T, D)
        s[p + "res1"] = (T, D)
        s[p + "ln2"] = (T, D)
        if m.is_moe_layer(L):
            E, K, H = m.experts, m.top_k, m.expert_hidden
            s[p + "gate_logits"] = (T, E)
            s[p + "gate_probs"] = (T, E)
            s[p + "topk_idx"] = (T, K)
            s[p + "topk_prob"] = (T, K)
            s[p + "expert_fc1"] = (T, K, H)
            s[p + "expert_gelu"] = (T, K, H)
            s[p + "expert_fc2"] = (T, K, D)
            s[p + "moe"] = (T, D)
        else:
            s[p + "fc1"] = (T, m.mlp_hidden)
            s[p + "gelu"] = (T, m.mlp_hidden)
            s[p + "fc2"] = (T, D)
        s[p + "out"] = (T, D)
    return s


def parameter_name(name: str) -> str:
    """Edge-MoE tensor name -> this module's state_dict key (``l3_qkv_weight`` -> ``blocks.3.attn.qkv.weight``)."""
    if name in ("patch_embed_weight", "patch_embed_bias"):
        return "patch_embed." + name.rsplit("_", 1)[1]
    if name == "pos_embed":
        return name
    m = re.fullmatch(r"l(\d+)_(.+)", name)
    if not m:
        raise KeyError(f"not an Edge-MoE tensor name: {name!r}")
    L, kind = m.groups()
    for prefix, module in (("norm1_", "norm1."), ("norm2_", "norm2."), ("qkv_", "attn.qkv."),
                           ("attn_proj_", "attn.proj."), ("fc1_", "mlp.fc1."), ("fc2_", "mlp.fc2.")):
        if kind.startswith(prefix):
            return f"blocks.{L}.{module}{kind[len(prefix):]}"
    return f"blocks.{L}.moe.{kind}"  # w_gate_T_task{t}, htoh4_weight/bias, h4toh_weight/bias


class _Capture:
    def __init__(self, enabled: bool):
        self.tensors: OrderedDict[str, torch.Tensor] | None = OrderedDict() if enabled else None

    def __call__(self, name: str, t: torch.Tensor) -> None:
        if self.tensors is not None:
            self.tensors[name] = t.detach().clone()


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, cap: _Capture, p: str):
        B, T, D = x.shape
        qkv = self.qkv(x)
        cap(p + "qkv", qkv)
        # (B, T, 3D) -> (3, B, heads, T, head_dim): Q | K | V blocks, each split into heads in order
        q, k, v = qkv.reshape(B, T, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        scores = (q @ k.transpose(-2, -1)) * self.scale
        cap(p + "attn_scores", scores)
        probs = scores.softmax(dim=-1)
        cap(p + "attn_probs", probs)
        out = (probs @ v).transpose(1, 2).reshape(B, T, D)
        cap(p + "attn_out", out)
        out = self.proj(out)
        cap(p + "proj", out)
        return out


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x, cap: _Capture, p: str):
        h = self.fc1(x)
        cap(p + "fc1", h)
        h = F.gelu(h, approximate="none")
        cap(p + "gelu", h)
        y = self.fc2(h)
        cap(p + "fc2", y)
        return y


def top_k_lowest_index(probs: torch.Tensor, k: int):
    """Top-k along the last axis, largest first, equal values ordered by lower index (deterministic,
    unlike torch.topk): a stable descending sort keeps equal values in index order."""
    order = torch.sort(probs, dim=-1, descending=True, stable=True).indices[..., :k]
    return order, torch.gather(probs, -1, order)


class MoE(nn.Module):
    """Edge-MoE / M3ViT mixture of experts with one gate per task (parameters named as the files)."""

    def __init__(self, dim: int, experts: int, hidden: int, top_k: int, tasks: int):
        super().__init__()
        self.experts, self.top_k, self.tasks = experts, top_k, tasks
        for t in range(tasks):
            self.register_parameter(f"w_gate_T_task{t}", nn.Parameter(torch.zeros(experts, dim)))
        self.htoh4_weight = nn.Parameter(torch.zeros(experts, hidden, dim))
        self.htoh4_bias = nn.Parameter(torch.zeros(experts, hidden))
        self.h4toh_weight = nn.Parameter(torch.zeros(experts, dim, hidden))
        self.h4toh_bias = nn.Parameter(torch.zeros(experts, dim))

    def gate(self, task: int) -> torch.Tensor:
        return getattr(self, f"w_gate_T_task{task}")

    def forward(self, x, task: int, cap: _Capture, p: str):
        B, T, D = x.shape
        logits = x @ self.gate(task).T
        cap(p + "gate_logits", logits)
        probs = logits.softmax(dim=-1)
        cap(p + "gate_probs", probs)
        idx, prob = top_k_lowest_index(probs, self.top_k)
        cap(p + "topk_idx", idx)
        cap(p + "topk_prob", prob)
        xs = x.reshape(B * T, D)
        flat_idx = idx.reshape(B * T, self.top_k)
        H = self.htoh4_weight.shape[1]
        h = x.new_zeros(B * T, self.top_k, H)
        # Each expert runs on the (token, slot) pairs routed to it: the same values as evaluating
        # every expert on every token and keeping the chosen ones, at 1/E of the cost.
        routed = [(e, torch.nonzero(flat_idx == e, as_tuple=True)) for e in range(self.experts)]
        for e, (tok, slot) in routed:
            if tok.numel():
                h[tok, slot] = xs[tok] @ self.htoh4_weight[e].T + self.htoh4_bias[e]
        cap(p + "expert_fc1", h.reshape(B, T, self.top_k, H))
        g = F.gelu(h, approximate="none")
        cap(p + "expert_gelu", g.reshape(B, T, self.top_k, H))
        y = x.new_zeros(B * T, self.top_k, D)
        for e, (tok, slot) in routed:
            if tok.numel():
                y[tok, slot] = g[tok, slot] @ self.h4toh_weight[e].T + self.h4toh_bias[e]
        cap(p + "expert_fc2", y.reshape(B, T, self.top_k, D))
        w = prob.reshape(B * T, self.top_k, 1)
        out = w[:, 0] * y[:, 0]
        for j in range(1, self.top_k):  # slot order, most probable first
            out = out + w[:, j] * y[:, j]
        out = out.reshape(B, T, D)
        cap(p + "moe", out)
        return out


class Block(nn.Module):
    def __init__(self, cfg: Config, layer: int):
        super().__init__()
        m = cfg.model
        self.moe_layer = m.is_moe_layer(layer)
        self.norm1 = nn.LayerNorm(m.dim, eps=m.layernorm_eps)
        self.attn = Attention(m.dim, m.heads)
        self.norm2 = nn.LayerNorm(m.dim, eps=m.layernorm_eps)
        if self.moe_layer:
            self.moe = MoE(m.dim, m.experts, m.expert_hidden, m.top_k, m.tasks)
        else:
            self.mlp = Mlp(m.dim, m.mlp_hidden)

    def forward(self, x, task: int, cap: _Capture, p: str):
        h = self.norm1(x)
        cap(p + "ln1", h)
        x = x + self.attn(h, cap, p)
        cap(p + "res1", x)
        h = self.norm2(x)
        cap(p + "ln2", h)
        h = self.moe(h, task, cap, p) if self.moe_layer else self.mlp(h, cap, p)
        x = x + h
        cap(p + "out", x)
        return x


class M3ViT(nn.Module):
    """The float M3ViT backbone for a config. Build with :meth:`from_weights`.

    ``forward(image, task, capture=False)``: image (C, H, W) or (B, C, H, W) in the pixel range
    [0, 1) (no mean/std normalisation, as Edge-MoE), task in 0..tasks-1. Returns the last block's
    output (T, D) (or (B, T, D)), and with ``capture=True`` also the OrderedDict of every
    intermediate tensor (see the module docstring; :func:`capture_shapes`).
    """

    def __init__(self, cfg: Config, dtype: torch.dtype = torch.float32):
        super().__init__()
        m = cfg.model
        self.cfg = cfg
        # Built on the meta device, then zero-filled: PyTorch's random default inits would only be
        # overwritten by load_weights (and cost more than the forward pass for edge_moe).
        with torch.device("meta"):
            self.patch_embed = nn.Conv2d(m.channels, m.dim, kernel_size=m.patch_size, stride=m.patch_size)
            self.pos_embed = nn.Parameter(torch.zeros(m.tokens, m.dim))
            self.blocks = nn.ModuleList(Block(cfg, L) for L in range(m.layers))
        self.to_empty(device="cpu")
        self.to(dtype)
        for p in self.parameters():
            p.data.zero_()
        self.requires_grad_(False)
        self.eval()

    @property
    def dtype(self) -> torch.dtype:
        return self.pos_embed.dtype

    @classmethod
    def from_weights(cls, cfg: Config, weights: WeightSet, dtype: torch.dtype = torch.float32) -> "M3ViT":
        model = cls(cfg, dtype)
        model.load_weights(weights)
        return model

    def load_weights(self, weights: WeightSet) -> None:
        shapes = tensor_shapes(self.cfg)
        missing = [n for n in shapes if n not in weights.tensors]
        if missing:
            raise ValueError(f"weights ({weights.source}) lack tensor(s) {', '.join(missing)} for config "
                             f"{self.cfg.name!r}")
        state = self.state_dict()
        for name, shape in shapes.items():
            a = np.asarray(weights.tensors[name])
            if a.shape != shape:
                raise ValueError(f"weights ({weights.source}): {name} has shape {a.shape}, config "
                                 f"{self.cfg.name!r} expects {shape}")
            key = parameter_name(name)
            state[key].copy_(torch.from_numpy(a).to(self.dtype))
        unused = set(state) - {parameter_name(n) for n in shapes}
        assert not unused, f"parameters without an Edge-MoE tensor: {sorted(unused)}"

    def _check_inputs(self, image, task):
        m = self.cfg.model
        if not isinstance(image, torch.Tensor):
            image = torch.as_tensor(np.asarray(image))
        if image.shape[-3:] != (m.channels, m.height, m.width) or image.dim() not in (3, 4):
            raise ModelInputError(f"image shape {tuple(image.shape)}: config {self.cfg.name!r} expects "
                                  f"({m.channels}, {m.height}, {m.width}) or (B, {m.channels}, {m.height}, {m.width})")
        if isinstance(task, bool) or not isinstance(task, (int, np.integer)) or not 0 <= task < m.tasks:
            raise ModelInputError(f"task {task!r}: config {self.cfg.name!r} has tasks 0..{m.tasks - 1}")
        return image.to(self.dtype), int(task)

    @torch.no_grad()
    def forward(self, image, task: int = 0, capture: bool = False):
        image, task = self._check_inputs(image, task)
        batched = image.dim() == 4
        x = image if batched else image.unsqueeze(0)
        cap = _Capture(capture)
        cap("input", x)
        B = x.shape[0]
        patches = self.patch_embed(x).flatten(2).transpose(1, 2)  # (B, N, D), raster order
        cap("patch_embed", patches)
        x = torch.cat([patches.new_zeros(B, 1, patches.shape[-1]), patches], dim=1) + self.pos_embed
        cap("embed", x)
        for L, block in enumerate(self.blocks):
            x = block(x, task, cap, f"layer{L}.")
        out = x if batched else x[0]
        if not capture:
            return out
        tensors = cap.tensors if batched else OrderedDict((k, v[0]) for k, v in cap.tensors.items())
        return out, tensors
