"""How well a codec reconstructs held-out speech: what the trainer writes into config.json.

    m = evaluate_codec(model, heldout)              # per k = 1..K codebooks: SI-SDR, mel distance, PESQ-WB, STOI
    evaluate_checkpoint("data/checkpoints/audio/rvq-speech16k")   # measure a saved codec, write its metrics

PESQ and STOI need the ``pesq`` and ``pystoi`` packages (``tokenworks.metrics.audio``); a GPU
machine without them trains with ``--eval-clips 0`` and the checkpoint is evaluated later with
``python -m tokenworks.audio.train --evaluate FOLDER``.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .codec import Codec
from .train_data import AudioSet, load_split, read_folder


@torch.inference_mode()
def evaluate_codec(model: Codec, heldout: AudioSet, limit: int | None = None,
                   sample_rate: int = 16000) -> dict[str, Any]:
    """Per k = 1..K: mean SI-SDR, mel distance, PESQ-WB and STOI over the held-out clips, plus
    codebook usage per level and the encode+decode speed as a multiple of real time."""
    from ..metrics import audio as am

    model.eval()
    dev = next(model.parameters()).device
    K, V = model.num_codebooks, model.vocab_size
    waves = heldout.waves[:limit] if limit else heldout.waves
    per_k: dict[int, dict[str, list[float]]] = {k: {"si_sdr": [], "mel": [], "pesq": [], "stoi": []} for k in range(1, K + 1)}
    all_codes = []
    seconds = codec_seconds = 0.0
    for w in waves:
        x = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)).to(dev)[None]  # (1, N)
        t0 = time.perf_counter()
        codes = model.encode(x)  # (1, T, K)
        full = model.decode(codes)[0, :len(w)]  # (N,)
        codec_seconds += time.perf_counter() - t0
        seconds += len(w) / sample_rate
        all_codes.append(codes[0].cpu().numpy().T)  # (K, T)
        for k in range(1, K + 1):
            y = full if k == K else model.decode(codes, keep=k)[0, :len(w)]
            y = y.float().cpu().numpy()
            s = per_k[k]
            s["si_sdr"].append(am.si_sdr(w, y))
            s["mel"].append(am.mel_distance(w, y, sample_rate))
            s["pesq"].append(am.pesq_wb(w, y, sample_rate))
            s["stoi"].append(am.stoi(w, y, sample_rate))
    ids = np.concatenate(all_codes, axis=1)  # (K, sum T)
    usage = am.codebook_usage(ids, V)
    c = model.config
    m: dict[str, Any] = {"heldout_clips": len(waves), "heldout_seconds": round(seconds, 1),
                         "tokens_per_second": c.tokens_per_second, "codebook_size": V, "codebooks": K}
    m["per_k"] = {str(k): {"bits_per_second": c.bitrate(k),
                           **{name: round(float(np.nanmean(v)), 4) for name, v in s.items()}}
                  for k, s in per_k.items()}
    m["codebook_usage"] = [round(lv.usage, 4) for lv in usage.levels]
    m["codebook_entropy"] = [round(lv.entropy, 4) for lv in usage.levels]
    m["realtime_factor"] = round(seconds / max(codec_seconds, 1e-9), 1)
    return m


def evaluate_checkpoint(folder: str | Path, eval_clips: int = 24, data_minutes: float = 30.0,
                        eval_dir: str | None = None) -> dict[str, Any]:
    """Evaluate a saved codec checkpoint on the held-out split (or ``eval_dir``) and write the
    metrics into its config.json, keeping the training facts (steps, seconds, device) already there."""
    from ..checkpoint import load_checkpoint, read_info
    from .codec_tokenizer import CodecTokenizer

    ckpt = load_checkpoint(folder, allow_outside=True)  # a path the user typed
    folder = ckpt.folder
    tok = CodecTokenizer.from_checkpoint(ckpt)
    heldout = read_folder(eval_dir, eval_clips) if eval_dir else load_split("heldout", data_minutes)
    metrics = evaluate_codec(tok.model, heldout, eval_clips, tok.model.config.sample_rate)
    info = read_info(folder)
    kept = {k: v for k, v in (info.get("metrics") or {}).items() if k not in metrics and k != "evaluated"}
    info["metrics"] = {**metrics, **kept}
    info.setdefault("data", {})["heldout_hash"] = heldout.data_hash
    tmp = folder / "config.json.part"
    tmp.write_text(json.dumps(info, indent=1), encoding="utf-8")
    tmp.replace(folder / "config.json")
    return info["metrics"]
