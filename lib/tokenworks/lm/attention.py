"""Causal attention of a language model (SmolLM2-135M: 30 layers x 9 heads) over its real tokens.

    from tokenworks.lm.attention import causal_attention
    res = causal_attention(lm, "The cat sat on the mat.")    # lm = tw.load_lm("lm/smollm2-135m")
    res.labels                  # ['<|endoftext|>', 'The', '␣cat', ...]   (T tokens, the document start first)
    res.attentions.shape        # (30, 9, T, T): layer, head, query, key; rows sum to 1; zero above the diagonal
    res.view(4, "average")      # (T, T) the 9 heads of layer 4 averaged
    res.value_norms.shape       # (30, T, T): ||sum_h alpha_hij f_h(x_j)||, Kobayashi et al. 2020

The model reads the document-start token (``<|endoftext|>``, id 0) first, as it does when it
scores a text, and that token is **shown** at position 0: causal models park much of their
attention on the first position (an "attention sink", Xiao et al. 2024, "Efficient Streaming
Language Models with Attention Sinks"), and hiding it would make every other weight look bigger
than it is. A result is the same ``AttentionResult`` the MiniLM view uses (``view``, ``describe``,
``labels``), so the figures draw both.

``value_norms`` follow Kobayashi et al. 2020 ("Attention is Not Only a Weight: Analyzing
Transformers with Vector Norms"): the attention weight of head h times the length of the vector
it moves, ``f_h(x_j) = W_O,h v_h(x_j)`` (LLaMA's value and output projections have no bias; x_j is
the layer's input after its RMSNorm). Summed over heads as vectors, then its length: (L, T, T).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInput
from ..text.attention import AttentionResult, AttnToken

MAX_TOKENS = 128  # positions the view runs, the document-start token included
MAX_CHARS = 20_000  # longer text is refused before tokenizing
MODEL_NAME = "SmolLM2-135M"


@dataclass
class CausalAttentionResult(AttentionResult):
    """``AttentionResult`` of a causal model: the document-start token at position 0, and the
    value-norm maps. ``tokens[0]`` is that token (special, covers no text)."""

    value_norms: np.ndarray | None = None  # (L, T, T) float32: ||sum_h alpha_hij f_h(x_j)||
    bos_shown: bool = True  # position 0 is the document-start token, and the figures show it
    causal: bool = True


def token_label(data: bytes) -> str:
    """A token's text as the axes show it: spaces as ␣, line breaks as ↵, and bytes that are not
    whole UTF-8 characters as <0xF0>."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "".join(f"<0x{b:02X}>" for b in data)
    return text.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥").replace("\r", "⏎")


def check_text(text: object, max_chars: int = MAX_CHARS) -> str:
    """The text, or InvalidInput saying what is allowed (a str, not blank, at most ``max_chars``)."""
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InvalidInput(f"the text must be a string, got {type(text).__name__}")
    if not text.strip():
        raise InvalidInput("type a text first: the input is empty (or only whitespace)")
    if len(text) > max_chars:
        raise InvalidInput(f"the text has {len(text):,} characters; the limit is {max_chars:,} (and only the "
                           f"first {MAX_TOKENS - 1} tokens are looked at). Paste a sentence or a short paragraph.")
    return text


def _tokens(lm, seq, keep: int) -> list[AttnToken]:
    """The document-start token, then the first ``keep`` tokens of ``seq`` with their spans."""
    ids = seq.ids.tolist()
    bos = lm.bos_id
    name = lm.tokenizer.hf.id_to_token(bos) if hasattr(lm.tokenizer, "hf") else None
    out = [AttnToken(0, name or "<document start>", bos, True, 0, 0, 0, 0)]
    for i in range(keep):
        s = seq.spans[i]
        out.append(AttnToken(i + 1, token_label(lm.vocab.token_bytes[ids[i]]), ids[i], bool(lm.vocab.special[ids[i]]),
                             s.start, s.end, int(s.byte_start), int(s.byte_end)))
    return out


def _value_norms(module, attentions, values: list) -> np.ndarray:
    """(L, T, T) ||sum_h alpha_hij W_O,h v_h(x_j)|| from the attention weights and each layer's values."""
    import torch

    cfg = module.config
    H, KV = cfg.num_attention_heads, cfg.num_key_value_heads
    d = cfg.hidden_size // H
    out = []
    for layer, (alpha, v) in enumerate(zip(attentions, values)):
        T = v.shape[1]
        v = v[0].view(T, KV, d).transpose(0, 1).repeat_interleave(H // KV, dim=0)  # (H, T, d): each query head's values
        w_o = module.model.layers[layer].self_attn.o_proj.weight  # (D, H*d)
        w_o = w_o.view(w_o.shape[0], H, d).permute(1, 2, 0)  # (H, d, D)
        f = torch.bmm(v, w_o)  # (H, T, D): f_h(x_j)
        moved = torch.einsum("hij,hjc->ijc", alpha[0].float(), f.float())  # (T, T, D)
        out.append(moved.norm(dim=-1))  # (T, T)
    return torch.stack(out).cpu().numpy().astype(np.float32)  # (L, T, T)


def causal_attention(lm, text: str, *, max_tokens: int = MAX_TOKENS, value_norms: bool = True
                     ) -> CausalAttentionResult:
    """Every layer's and head's attention of ``lm`` over ``text`` (the document-start token first).

    At most ``max_tokens`` positions (and at most MAX_TOKENS); a longer text is cut and ``notes``
    says where. The forward pass holds ``lm.net.lock``. ``value_norms=False`` skips the
    Kobayashi maps.
    """
    import torch

    text = check_text(text)
    if not isinstance(max_tokens, int) or not 2 <= max_tokens <= MAX_TOKENS:
        raise InvalidInput(f"max_tokens must be between 2 and {MAX_TOKENS} (got {max_tokens!r})")
    t0 = time.perf_counter()
    seq = lm.tokenizer.encode(text)
    n_text = len(seq.ids)
    if n_text == 0:
        raise InvalidInput("the text has no tokens the model can read")
    keep = min(n_text, max_tokens - 1)
    tokens = _tokens(lm, seq, keep)
    ids = [t.id for t in tokens]  # (T,)
    notes = []
    if n_text + 1 > max_tokens:
        end = tokens[-1].char_end
        notes.append(f"truncated: the text has {n_text + 1} tokens with the document-start token; the view reads "
                     f"at most {max_tokens}, so only the first {keep} are shown (up to character {end} of {len(text)})")
    module = lm.net.module
    values: list = []
    hooks = [layer.self_attn.v_proj.register_forward_hook(lambda _m, _i, out: values.append(out))
             for layer in module.model.layers] if value_norms else []
    try:
        with lm.net.lock, torch.inference_mode():
            x = torch.tensor([ids], device=lm.net.device)  # (1, T)
            out = module(x, output_attentions=True, use_cache=False)
            att = torch.stack([a[0] for a in out.attentions]).float().cpu().numpy()  # (L, H, T, T)
            norms = _value_norms(module, out.attentions, values) if value_norms else None  # (L, T, T)
    finally:
        for h in hooks:
            h.remove()
    return CausalAttentionResult(sentence=text, tokens=tokens, attentions=att, total_tokens=n_text + 1,
                                 model=MODEL_NAME, notes=notes, seconds=time.perf_counter() - t0, value_norms=norms)
