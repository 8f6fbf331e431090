"""A LLaMA-architecture GGUF read into a transformers ``LlamaForCausalLM``, without llama.cpp.

    model, info = read_llama_gguf(path)      # float32 torch module on the CPU, eval mode
    info.vocab_size, info.layers, info.heads, info.kv_heads

The weights are dequantized with the ``gguf`` package's own dequantizer (Q4_1, Q8_0, F16, F32
...), then renamed to transformers' names. llama.cpp's converter permutes the rows of the query
and key projections (it stores rotary pairs interleaved); ``_unpermute`` undoes that, as
transformers' own GGUF loader does. transformers' loader needs ``accelerate`` and takes ~20 s
for SmolLM2-135M; this one takes ~4 s and needs only ``gguf`` and ``torch``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidInput


@dataclass(frozen=True)
class LlamaInfo:
    """What the GGUF header says about the network."""

    name: str  # general.name
    vocab_size: int  # V
    layers: int  # L
    hidden: int  # D
    heads: int  # query heads
    kv_heads: int  # key/value heads (grouped-query attention)
    context: int  # the context length the model was trained for
    parameters: int  # number of weights after dequantization
    quantization: str  # the tensor types stored, e.g. "Q4_1 x210, F32 x61, Q8_0 x1"


def _field(reader, key: str, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def _unpermute(w: np.ndarray, heads: int) -> np.ndarray:
    """Undo llama.cpp's row interleaving of a query/key projection. w: (heads * hd, D)."""
    rows = w.shape[0]
    return w.reshape(heads, rows // heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


_NAMES = {  # GGUF tensor name (after "blk.N.") -> transformers name (after "model.layers.N.")
    "attn_norm.weight": "input_layernorm.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight",
    "attn_k.weight": "self_attn.k_proj.weight",
    "attn_v.weight": "self_attn.v_proj.weight",
    "attn_output.weight": "self_attn.o_proj.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight",
    "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
}


def read_llama_gguf(path: str | Path):
    """The model in ``path`` as a float32 ``LlamaForCausalLM`` (eval mode) and its ``LlamaInfo``."""
    import gguf
    import torch
    from gguf.quants import dequantize
    from transformers import LlamaConfig, LlamaForCausalLM

    reader = gguf.GGUFReader(str(path))
    arch = _field(reader, "general.architecture")
    if arch != "llama":
        raise InvalidInput(f"{Path(path).name} holds a '{arch}' model; only 'llama' GGUFs are read here")
    p = "llama."
    heads = int(_field(reader, p + "attention.head_count"))
    kv_heads = int(_field(reader, p + "attention.head_count_kv", heads))
    tokens = reader.fields["tokenizer.ggml.tokens"]
    vocab = int(_field(reader, p + "vocab_size", len(tokens.data)))
    names = {t.name for t in reader.tensors}
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=int(_field(reader, p + "embedding_length")),
        intermediate_size=int(_field(reader, p + "feed_forward_length")),
        num_hidden_layers=int(_field(reader, p + "block_count")),
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=int(_field(reader, p + "context_length", 2048)),
        rms_norm_eps=float(_field(reader, p + "attention.layer_norm_rms_epsilon", 1e-5)),
        rope_parameters={"rope_type": "default",
                         "rope_theta": float(_field(reader, p + "rope.freq_base", 10000.0))},
        tie_word_embeddings="output.weight" not in names,
        bos_token_id=int(_field(reader, "tokenizer.ggml.bos_token_id", 1)),
        eos_token_id=int(_field(reader, "tokenizer.ggml.eos_token_id", 2)),
        attn_implementation="eager",  # the only implementation that returns attention weights
    )
    state: dict[str, "torch.Tensor"] = {}
    kinds: dict[str, int] = {}
    for t in reader.tensors:
        kinds[t.tensor_type.name] = kinds.get(t.tensor_type.name, 0) + 1
        w = np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float32)  # (out, in) rows as stored
        name = t.name
        if name == "token_embd.weight":
            key = "model.embed_tokens.weight"
        elif name == "output_norm.weight":
            key = "model.norm.weight"
        elif name == "output.weight":
            key = "lm_head.weight"
        elif name.startswith("blk."):
            _, n, rest = name.split(".", 2)
            if rest not in _NAMES:
                continue  # e.g. rope frequency tables, recomputed by transformers
            if rest == "attn_q.weight":
                w = _unpermute(w, heads)
            elif rest == "attn_k.weight":
                w = _unpermute(w, kv_heads)
            key = f"model.layers.{n}.{_NAMES[rest]}"
        else:
            continue
        w = np.ascontiguousarray(w)
        state[key] = torch.from_numpy(w if w.flags.writeable else w.copy())
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    missing = set(model.state_dict()) - set(state) - ({"lm_head.weight"} if config.tie_word_embeddings else set())
    if missing:
        raise InvalidInput(f"{Path(path).name} lacks tensors for: {', '.join(sorted(missing)[:5])}")
    model.load_state_dict(state, strict=False, assign=True)
    if config.tie_word_embeddings:
        model.tie_weights()
    # buffers created on the meta device (rotary frequencies) are rebuilt on the CPU
    model.model.rotary_emb = type(model.model.rotary_emb)(config=config)
    model.eval()
    info = LlamaInfo(
        name=str(_field(reader, "general.name", Path(path).stem)), vocab_size=vocab,
        layers=config.num_hidden_layers, hidden=config.hidden_size, heads=heads, kv_heads=kv_heads,
        context=config.max_position_embeddings,
        parameters=int(sum(p.numel() for p in model.parameters())),
        quantization=", ".join(f"{k} x{v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])),
    )
    return model, info
