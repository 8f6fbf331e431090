"""Give a model a new tokenizer: new embedding rows, the same network (``tokenworks.lm.transplant``).

    t = transplant(tw.load_lm(), "text/cl100k_base", method="fvt")
    t.preflight                     # overlap, new tokens, held-out bytes they cover, specials, digits
    t.lm.score(text).bits_per_byte  # the same model reading cl100k_base tokens
    save(t, "runs/lm/smollm2-cl100k-fvt");  tw.load_lm("lm/smollm2-cl100k-fvt")   # a checkpoint

Tokens whose bytes are a base token keep that token's vector; the others get one from
``new_embeddings`` (zero, mean, random, fvt, omp, tokenadapt; omp and tokenadapt place tokens in
MiniLM's word-embedding space, ``donor_space``, because no donor model of the new vocabulary exists
offline). Input and output embeddings are built the same way
(SmolLM2 ties them, so they are one matrix). Special tokens are matched by name; the new
vocabulary's document-start token (``<|endoftext|>``, ``<|begin_of_text|>``, ``<s>``) always gets
the base model's document-start vector, because bits per byte is conditioned on it. Everything but
the embedding rows is the base network itself, shared in memory, not copied.

A checkpoint holds only the new matrix (``model.safetensors``) and a ``config.json`` naming the base
model, the tokenizer, the method and the pre-flight numbers; it is written atomically. A fine-tuned
one (``lm.finetune``) also holds its own output matrix (``lm_head``) and a logit bias
(``lm_head_bias``): input and output embeddings are untied there.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CorruptCheckpoint, InvalidInput
from . import new_embeddings
from .vocab import vocab_for

KIND = "lm/transplant"
DOC_START = ("<|endoftext|>", "<|begin_of_text|>", "<s>")
NUMBERS = ("7", "42", "2024", "3.14159", "1,000,000", "0.001")


@dataclass
class TransplantConfig:
    model: str = "lm/smollm2-135m"  # the base model (a name tw.load_lm knows)
    tokenizer: str = "text/cl100k_base"  # the new tokenizer: a registry name or run:<folder>
    method: str = "fvt"  # how tokens new to the model get vectors: zero, mean, random, fvt, omp, tokenadapt
    seed: int = 0  # the random method's seed


@dataclass
class Preflight:
    """What a transplant will do, measured before any weights are written."""

    base_tokenizer: str
    new_tokenizer: str
    base_vocab: int
    new_vocab: int
    shared: int  # new tokens whose bytes are a base token: they keep its vector
    new: int  # tokens the method must give a vector
    special: dict[str, str]  # new special token -> what it gets
    heldout_bytes: int
    heldout_new_share: float  # share of held-out bytes that fall in new tokens
    heldout_tokens_base: int
    heldout_tokens_new: int
    out_of_range: int  # base ids the plan points at beyond the base matrix (must be 0)
    unrepresented_bytes: int  # bytes of new tokens no base token holds (fvt leaves them out)
    numbers: list[tuple[str, list[str], list[str]]]  # how each tokenizer cuts some numbers
    notes: list[str] = field(default_factory=list)

    @property
    def new_share(self) -> float:
        return self.new / max(1, self.shared + self.new)


@dataclass
class Transplanted:
    config: TransplantConfig
    lm: object  # the LanguageModel on the new tokenizer
    plan: new_embeddings.EmbeddingPlan
    preflight: Preflight
    matrix: np.ndarray  # (V_new, D) float32 input (= output, tied) embeddings
    seconds: float


def _load_tokenizer(ref: str):
    from ..registry import load_ref

    return load_ref(ref)


def _doc_start(vocab) -> int | None:
    names = {v: k for k, v in getattr(vocab, "special_names", {}).items()}
    for n in DOC_START:
        if n in names:
            return int(names[n])
    return None


def preflight(lm, tok, plan: new_embeddings.EmbeddingPlan, texts: list[str]) -> Preflight:
    """The pre-flight report of putting ``tok`` on ``lm`` with ``plan``."""
    nv = vocab_for(tok)
    new_ids = set(np.flatnonzero((plan.shared < 0) & ~nv.special).tolist())
    nbytes = new_bytes = tb = tn = 0
    for t in texts:
        ids = tok.encode(t).ids.tolist()
        nbytes += len(t.encode())
        tn += len(ids)
        tb += len(lm.tokenizer.encode(t).ids)
        new_bytes += sum(len(nv.token_bytes[i]) for i in ids if i in new_ids)
    doc = _doc_start(nv)
    special = {}
    for i, name in sorted(getattr(nv, "special_names", {}).items()):
        j = plan.special_map.get(i, -1)
        special[name] = ("the base document-start vector" if i == doc else
                         f"base {lm.vocab.special_names.get(j, j)}" if j >= 0 else "the mean vector (no base counterpart)")
    V_base = len(lm.vocab.token_bytes)
    out_of_range = int((plan.shared >= V_base).sum() + sum(any(p >= V_base for p in ps) for ps in plan.pieces))
    label = lambda t, ids: [t.render_token(int(i)) for i in ids]  # noqa: E731
    numbers = [(n, label(lm.tokenizer, lm.tokenizer.encode(n).ids), label(tok, tok.encode(n).ids)) for n in NUMBERS]
    notes = []
    if doc is None:
        notes.append("the new vocabulary has no document-start token")
    return Preflight(lm.tokenizer.name, tok.name, V_base, len(nv.token_bytes), int((plan.shared >= 0).sum()),
                     int(((plan.shared < 0) & ~nv.special).sum()), special, nbytes, new_bytes / max(1, nbytes), tb, tn,
                     out_of_range, plan.unrepresented, numbers, notes)


def _with_embeddings(module, E_new: np.ndarray, out: np.ndarray | None = None, bias: np.ndarray | None = None):
    """A copy of ``module``'s network that shares every weight but the embedding rows: tied to the
    output when ``out`` is None, else an output matrix (V, D) of its own, with a logit bias (V,)
    when ``bias`` is given (the fine-tune's)."""
    import copy

    import torch
    from transformers import LlamaForCausalLM

    cfg = copy.deepcopy(module.config)
    cfg.vocab_size = int(E_new.shape[0])
    cfg.tie_word_embeddings = out is None
    state = {k: v for k, v in module.state_dict().items() if not k.startswith(("model.embed_tokens", "lm_head"))}
    state["model.embed_tokens.weight"] = torch.from_numpy(E_new)
    if out is not None:
        state["lm_head.weight"] = torch.from_numpy(out)
    with torch.device("meta"):
        new = LlamaForCausalLM(cfg)
        if bias is not None:
            new.lm_head = torch.nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=True)
    if bias is not None:
        state["lm_head.bias"] = torch.from_numpy(bias)
    new.load_state_dict(state, strict=False, assign=True)
    if out is None:
        new.tie_weights()
    new.model.rotary_emb = type(new.model.rotary_emb)(config=cfg)
    return new.eval()


def _assemble(lm, tok, E_new: np.ndarray, name: str, method: str, t0: float, out: np.ndarray | None = None,
              bias: np.ndarray | None = None):
    from .model import LanguageModel, LMInfo
    from .net import TokenNet

    nv = vocab_for(tok)
    doc = _doc_start(nv)
    module = _with_embeddings(lm.net.module, E_new, out, bias).to(lm.net.device)
    i = lm.info
    info = LMInfo(name=name, source=f"{i.name} with {tok.name} embeddings ({method})", tokenizer=tok.name,
                  vocab_size=len(nv.token_bytes), layers=i.layers, heads=i.heads, kv_heads=i.kv_heads,
                  parameters=int(sum(p.numel() for p in module.parameters())), context=i.context,
                  quantization=i.quantization, device=lm.net.device, load_seconds=time.perf_counter() - t0)
    return LanguageModel(info, tok, nv, TokenNet(module, lm.net.device), bos_id=doc)


def planned(lm, tok, method: str, texts: list[str] | None = None):
    """(the new vocabulary, the EmbeddingPlan, the Preflight) of putting ``tok`` on ``lm``: nothing built."""
    nv = vocab_for(tok)  # refuses a lossy vocabulary, with the reason
    doc = _doc_start(nv)
    if doc is None:
        raise InvalidInput(f"{tok.name} has no document-start token ({', '.join(DOC_START)}); bits per byte is "
                           "conditioned on one, so the transplant needs it")
    p = new_embeddings.plan(lm.vocab, lm.tokenizer, nv, method)
    p.special_map[doc] = lm.bos_id
    if texts is None:
        from .heldout import heldout_paragraphs

        texts = heldout_paragraphs()
    return nv, p, preflight(lm, tok, p, texts)


def transplant(lm, tokenizer: str, method: str = "fvt", seed: int = 0, texts: list[str] | None = None) -> Transplanted:
    """``lm`` reading ``tokenizer``'s tokens; ``texts`` (default: held-out prose) feed the pre-flight."""
    t0 = time.perf_counter()
    cfg = TransplantConfig(model=lm.name, tokenizer=tokenizer, method=method, seed=seed)
    tok = _load_tokenizer(tokenizer)
    nv, p, pre = planned(lm, tok, method, texts)
    if pre.out_of_range:
        raise InvalidInput(f"{pre.out_of_range} tokens would take vectors from ids beyond the base model's "
                           f"{pre.base_vocab} rows; nothing was written")
    with lm.net.lock:
        E = lm.net.module.get_input_embeddings().weight.detach().float().cpu().numpy()  # (V, D)
    E_new = new_embeddings.build(E, p, nv.special, seed, new_bytes=nv.token_bytes,
                                 base_bytes=lm.vocab.token_bytes)  # (V_new, D)
    name = f"{lm.name}+{tok.name.split('/')[-1]}-{method}"
    return Transplanted(cfg, _assemble(lm, tok, E_new, name, method, t0), p, pre, E_new, time.perf_counter() - t0)


def save(t: Transplanted, folder: str | Path) -> Path:
    """Write the checkpoint: the new matrix and the config (base model, tokenizer, method, pre-flight)."""
    import torch

    from ..checkpoint import save_checkpoint

    return save_checkpoint(folder, kind=KIND, name=t.lm.name, config=t.config,
                           tensors={"embed_tokens": torch.from_numpy(t.matrix)},
                           metrics={"preflight": asdict(t.preflight)})


def load(folder: Path, load_lm):
    """The LanguageModel a transplant checkpoint describes; ``load_lm`` loads (and shares) its base."""
    from ..checkpoint import load_checkpoint

    t0 = time.perf_counter()
    ck = load_checkpoint(folder, allow_outside=True)
    if ck.kind != KIND:
        raise CorruptCheckpoint(f"{folder} holds a '{ck.kind}' checkpoint, not a transplanted model ({KIND})")
    known = set(TransplantConfig.__dataclass_fields__)
    if set(ck.config) - known or "embed_tokens" not in ck.tensors:
        raise CorruptCheckpoint(f"{folder} was written by another version of tokenworks (config fields "
                                f"{sorted(ck.config)}); transplant again with `tokenworks lm transplant`")
    cfg = TransplantConfig(**ck.config)
    base = load_lm(cfg.model)
    tok = _load_tokenizer(cfg.tokenizer)
    E_new, out, bias = (ck.tensors[k].float().numpy() if k in ck.tensors else None
                        for k in ("embed_tokens", "lm_head", "lm_head_bias"))
    V = len(vocab_for(tok).token_bytes)
    if any(m is not None and m.shape[0] != V for m in (E_new, out, bias)):
        raise CorruptCheckpoint(f"{folder}: {E_new.shape[0]} embedding rows, but {cfg.tokenizer} has {V} tokens")
    if bias is not None and out is None:
        raise CorruptCheckpoint(f"{folder} has an output bias but no output matrix (lm_head)")
    return _assemble(base, tok, E_new, str(ck.info.get("name", folder.name)), cfg.method, t0, out, bias)
