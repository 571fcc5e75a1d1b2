"""nn.MultiheadAttention."""
from ... import _factories
from .. import _functional_layers as FL
from .. import init
from .._functional_layers.attention import attention_forward
from .._functional_layers.attention import multi_head_attention_forward as _PUBLIC_FORWARD
from ..parameter import Parameter
from .linear import NonDynamicallyQuantizableLinear
from .module import Module


class MultiheadAttention(Module):
    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        factory = dict(device=device, dtype=dtype)
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(_factories.empty((embed_dim, embed_dim), **factory))
            self.k_proj_weight = Parameter(_factories.empty((embed_dim, self.kdim), **factory))
            self.v_proj_weight = Parameter(_factories.empty((embed_dim, self.vdim), **factory))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(_factories.empty((3 * embed_dim, embed_dim),
                                                             **factory))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(_factories.empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        **factory)
        if add_bias_kv:
            self.bias_k = Parameter(_factories.empty((1, 1, embed_dim), **factory))
            self.bias_v = Parameter(_factories.empty((1, 1, embed_dim), **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        batched = query.dim() == 3
        args = (query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
                self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
                self.out_proj.weight, self.out_proj.bias, self.training, key_padding_mask,
                need_weights, attn_mask, not self._qkv_same_embed_dim, self.q_proj_weight,
                self.k_proj_weight, self.v_proj_weight, None, None, average_attn_weights,
                is_causal)
        public = FL.multi_head_attention_forward
        if not (self.batch_first and batched):
            return public(*args)
        if public is _PUBLIC_FORWARD:
            # computed in the caller's (N, L, E) layout, not transposed to (L, N, E) and back
            return attention_forward(True, *args)
        # the public function replaced (autocast's casting wrapper, a user's patch):
        # called as PyTorch calls it, one transpose per distinct tensor, so that
        # self-attention stays self-attention
        q = query.transpose(1, 0)
        k = q if key is query else key.transpose(1, 0)
        v = k if value is key else value.transpose(1, 0)
        out, weights = public(q, k, v, *args[3:])
        return out.transpose(1, 0), weights
