"""Descriptor-token cross-attention over patch tokens (paper Eq. 4)."""

from __future__ import annotations

import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

from ._validation import check_floating, check_positive_int, check_same_batch, check_tensor

__all__ = ["DescriptorCrossAttention"]


class DescriptorCrossAttention(nn.Module):
    """Descriptor token(s) attend to patch tokens: ``t = MHA(Q=t_d, K=t_f, V=t_f) + t_d`` (Eq. 4).

    The attention output is added to the query (residual), then a feed-forward block follows, each
    step closed by a LayerNorm: ``t = LN(t_d + MHA(t_d, t_f, t_f))``, ``t = LN(t + FFN(t))``.

    paper: "followed by a feed-forward projection and layer normalization" (post-norm) with no
    word on the keys; here: post-norm as written, plus a LayerNorm on the patch tokens before the
    key/value projections, because they come from a convolutional feature map of arbitrary scale.
    The attention width ``attn_dim`` may be narrower than ``dim`` (the semantic encoder uses
    ``dim // 4`` to stay cheap); the output projection maps back to ``dim``.

    Args:
        dim: Width D of the query tokens (and of the output).
        num_heads: Number of attention heads; must divide ``attn_dim``.
        context_dim: Width of the patch tokens; default ``dim``.
        attn_dim: Inner width of queries/keys/values; default ``dim``.
        mlp_ratio: FFN hidden width as a multiple of ``dim``; 0 disables the FFN.
        qkv_bias: Bias in the query/key/value projections.
        attn_drop: Dropout on attention weights (training only).
        proj_drop: Dropout after the output projection and the FFN.
        act_layer: FFN activation class.
        norm_layer: Normalization class for tokens.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int = 4,
        *,
        context_dim: int | None = None,
        attn_dim: int | None = None,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
        act_layer: type[nn.Module] = nn.GELU,
        norm_layer: type[nn.Module] = nn.LayerNorm,
    ) -> None:
        super().__init__()
        check_positive_int(dim, "dim")
        check_positive_int(num_heads, "num_heads")
        attn_dim = attn_dim or dim
        context_dim = context_dim or dim
        if attn_dim % num_heads != 0:
            raise ValueError(
                f"`attn_dim` ({attn_dim}) must be divisible by `num_heads` ({num_heads})"
            )
        if mlp_ratio < 0:
            raise ValueError(f"`mlp_ratio` must be >= 0, got {mlp_ratio}")
        self.dim = dim
        self.context_dim = context_dim
        self.num_heads = num_heads
        self.attn_dim = attn_dim
        self.attn_drop = attn_drop
        self.norm_context = norm_layer(context_dim)
        self.q = nn.Linear(dim, attn_dim, bias=qkv_bias)
        self.kv = nn.Linear(context_dim, 2 * attn_dim, bias=qkv_bias)
        self.proj = nn.Linear(attn_dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.norm1 = norm_layer(dim)
        hidden = int(dim * mlp_ratio)
        if hidden > 0:
            self.mlp: nn.Sequential | None = nn.Sequential(
                nn.Linear(dim, hidden),
                act_layer(),
                nn.Linear(hidden, dim),
                nn.Dropout(proj_drop),
            )
            self.norm2: nn.Module | None = norm_layer(dim)
        else:
            self.mlp = None
            self.norm2 = None

    def forward(self, query: Tensor, context: Tensor) -> Tensor:
        """Update the descriptor token(s).

        Args:
            query: Descriptor token(s) t_d, shape (B, D) or (B, Q, D).
            context: Patch tokens t_f, shape (B, N, context_dim).

        Returns:
            Updated token(s) t, same shape as ``query``.
        """
        query = check_tensor(
            query, "query", ndim=(2, 3), shape=f"(B, D) or (B, Q, D) with D = {self.dim}"
        )
        context = check_tensor(
            context,
            "context",
            ndim=3,
            shape=f"(B, N, C) with C = {self.context_dim}",
            sizes={-1: self.context_dim},
        )
        if query.shape[-1] != self.dim:
            raise ValueError(
                f"`query` must have shape (B, D) or (B, Q, D) with D = {self.dim}, "
                f"got shape {tuple(query.shape)}"
            )
        check_floating(query, "query")
        check_floating(context, "context")
        check_same_batch(query, "query", context, "context")
        single = query.dim() == 2
        tokens = rearrange(query, "b d -> b 1 d") if single else query

        q = rearrange(self.q(tokens), "b q (h d) -> b h q d", h=self.num_heads)
        k, v = rearrange(
            self.kv(self.norm_context(context)),
            "b n (two h d) -> two b h n d",
            two=2,
            h=self.num_heads,
        )
        attended = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.0
        )
        attended = self.proj_drop(self.proj(rearrange(attended, "b h q d -> b q (h d)")))
        tokens = self.norm1(tokens + attended)
        if self.mlp is not None and self.norm2 is not None:
            tokens = self.norm2(tokens + self.mlp(tokens))
        return rearrange(tokens, "b 1 d -> b d") if single else tokens

    def extra_repr(self) -> str:
        return f"dim={self.dim}, num_heads={self.num_heads}, attn_dim={self.attn_dim}"
