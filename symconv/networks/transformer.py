"""Transformer layers and blocks as values: patch embedding, class token, attention, and torchvision's ViT encoder block."""

from __future__ import annotations

from symconv.core.checks import require_flag
from symconv.core.errors import invalid
from symconv.core.formula import compute
from symconv.formulas.layers import (
    attention_macs,
    conv_macs,
    conv_output_size,
    conv_params,
    embedding_params,
    linear_macs,
    linear_params,
)
from symconv.networks.containers import Container, Sequential, add
from symconv.networks.layers import (
    GELU,
    Dropout,
    Effect,
    Layer,
    LayerNorm,
    Linear,
    feature_map,
    require_same,
    size,
    tokens,
)

# ---- transformer layers (ViT) -------------------------------------------------------------------


class PatchEmbedding(Layer):
    """A K = s = patch_size convolution whose output grid is read as a sequence of tokens (L = H'W')."""

    def __init__(self, in_channels, embed_dim, patch_size):
        self.in_channels = size("in_channels", in_channels)
        self.embed_dim = size("embed_dim", embed_dim)
        self.patch_size = size("patch_size", patch_size)

    def forward(self, shape):
        channels, height, width = feature_map(shape)
        require_same("in_channels", self.in_channels, channels, "channels")
        grid = [compute(conv_output_size, n, self.patch_size, self.patch_size) for n in (height, width)]
        return Effect(
            (grid[0] * grid[1], self.embed_dim),
            compute(conv_params, self.in_channels, self.embed_dim, self.patch_size),
            compute(conv_macs, self.in_channels, self.embed_dim, self.patch_size, *grid),
        )

    def field(self, field, shape):
        return field.window(self.patch_size, self.patch_size)


class ClassToken(Layer):
    """Prepends one learned token: L×D → (L + 1)×D."""

    def __init__(self, embed_dim):
        self.embed_dim = size("embed_dim", embed_dim)

    def forward(self, shape):
        length, dim = tokens(shape)
        require_same("embed_dim", self.embed_dim, dim, "token size")
        return Effect((length + 1, dim), compute(embedding_params, 1, self.embed_dim))


class PositionEmbedding(Layer):
    """Adds a learned vector to each of a fixed number of tokens."""

    def __init__(self, num_tokens, embed_dim):
        self.num_tokens = size("num_tokens", num_tokens)
        self.embed_dim = size("embed_dim", embed_dim)

    def forward(self, shape):
        length, dim = tokens(shape)
        require_same("num_tokens", self.num_tokens, length, "token count")
        require_same("embed_dim", self.embed_dim, dim, "token size")
        return Effect(shape, compute(embedding_params, self.num_tokens, self.embed_dim))


class MultiheadAttention(Layer):
    """Self-attention on L×D tokens: packed Q, K, V projection, the two attention products, output projection."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, batch_first=False):
        self.embed_dim = size("embed_dim", embed_dim)
        self.num_heads = size("num_heads", num_heads)
        self.bias = require_flag("bias", bias)

    def forward(self, shape):
        length, dim = tokens(shape)
        require_same("embed_dim", self.embed_dim, dim, "token size")
        if isinstance(dim, int) and isinstance(self.num_heads, int) and dim % self.num_heads:
            raise invalid("num_heads", self.num_heads, f"must divide embed_dim={dim}")
        return Effect(
            shape,
            compute(linear_params, dim, 3 * dim, self.bias) + compute(linear_params, dim, dim, self.bias),
            length * compute(linear_macs, dim, 3 * dim)
            + compute(attention_macs, length, dim)
            + length * compute(linear_macs, dim, dim),
        )

    def field(self, field, shape):
        return None


class SelectToken(Layer):
    """Keeps one token of the sequence (ViT's classification token): L×D → D."""

    def __init__(self, index=0):
        self.index = index

    def forward(self, shape):
        length, dim = tokens(shape)
        if isinstance(length, int) and not -length <= self.index < length:
            raise invalid("index", self.index, f"must select one of the {length} tokens")
        return Effect((dim,))

    def field(self, field, shape):
        return None


# ---- composite blocks (torchvision's ViT) --------------------------------------------------------


class MLP(Sequential):
    """torchvision's MLPBlock: Linear, GELU, Dropout, Linear, Dropout (children 0 … 4)."""

    def __init__(self, in_features, hidden_features, dropout=0.0):
        super().__init__(
            Linear(in_features, hidden_features), GELU(), Dropout(dropout), Linear(hidden_features, in_features), Dropout(dropout)
        )


class EncoderBlock(Container):
    """A pre-norm transformer block: x + attention(ln_1(x)), then y + mlp(ln_2(y)) (torchvision's names).

    The two sums are the ``Add`` rows ``.add_1`` and ``.add_2``.
    """

    def __init__(self, num_heads, hidden_dim, mlp_dim, dropout=0.0, attention_dropout=0.0, layer_norm_eps=1e-6):
        self.children = (
            ("ln_1", LayerNorm(hidden_dim, eps=layer_norm_eps)),
            ("self_attention", MultiheadAttention(hidden_dim, num_heads, dropout=attention_dropout)),
            ("dropout", Dropout(dropout)),
            ("ln_2", LayerNorm(hidden_dim, eps=layer_norm_eps)),
            ("mlp", MLP(hidden_dim, mlp_dim, dropout)),
        )

    def trace(self, signal, walk):
        attended = signal
        for name in ("ln_1", "self_attention", "dropout"):
            attended = walk.visit(self[name], name, attended)
        signal = add(walk, "add_1", attended, signal)
        transformed = walk.visit(self["mlp"], "mlp", walk.visit(self["ln_2"], "ln_2", signal))
        return add(walk, "add_2", transformed, signal)
