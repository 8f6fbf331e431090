"""The Train tab's new-run form: what can be trained, on which data, and the trainer's arguments
for a run (uploads turned into a data set first).

    argv, summary, note = trainer_args(NewRun(modality="image", model="grid", preset="cpu-tiny", data="shapes32"))
    run_id, message = start_run(NewRun(...), files)   # the job starts in the background (tokenworks.train.jobs)
"""
from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from tokenworks.errors import InvalidInput
from tokenworks.paths import runs_dir
from tokenworks.train import jobs
from tokenworks.train import runs as R

IMAGE_MODELS = ("grid", "flex1d")
IMAGE_QUANTIZERS = ("preset", "vq", "fsq", "lfq", "glfq")  # "preset": the model's own
IMAGE_PRESETS = ("cpu-tiny", "default", "gpu")
AUDIO_MODELS = ("rvq", "single")
AUDIO_PRESETS = ("cpu-tiny", "cpu", "gpu")
TEXT_ALGOS = ("bpe", "bytebpe", "superbpe", "wordpiece", "unigram", "charbpe")
LM_TOKENIZERS = ("text/cl100k_base", "text/o200k_base", "text/r50k_base")  # lm-embeddings: the model's new tokenizer
LM_PRESETS = ("cpu-tiny", "cpu", "gpu")
LM_CORPORA = ("pydocs", "austen", "shakespeare")  # tokenworks.lm.finetune_config.TEXT_CORPORA
TINY_MODELS = ("bytes", "delete", "words", "text/r50k_base", "text/cl100k_base")  # lm: an input, or a tokenizer
TINY_PRESETS = ("cpu-tiny", "cpu", "gpu")
UPLOADED = "uploaded files"
BUNDLED_AUDIO = "synthetic speech (bundled)"
MAX_STEPS = 1_000_000
LIMITS = ("Uploads: pictures (.png .jpg .webp .gif .bmp, up to 500 files, 50 MB and 40 megapixels each, or a .zip) "
          "for image runs; WAV / FLAC / OGG clips (up to 500 files, 10 minutes each) for audio runs.")


@dataclass
class NewRun:
    modality: str = "image"  # image | audio | text | lm-embeddings | lm
    model: str = "grid"  # image: grid | flex1d; audio: rvq | single; text: an algorithm; lm-embeddings: a tokenizer;
    # lm: bytes | delete | words or a tokenizer the tiny model reads
    quantizer: str = "preset"  # image: the model's quantizer, or vq | fsq | lfq | glfq
    preset: str = "cpu-tiny"
    data: str = "shapes32"  # an image data set, BUNDLED_AUDIO, a text corpus, or UPLOADED
    steps: int | None = None  # None: the preset's
    seed: int = 0
    vocab_size: int = 2000  # text only


def model_choices(modality: str) -> list[str]:
    return {"image": list(IMAGE_MODELS), "audio": list(AUDIO_MODELS), "text": list(TEXT_ALGOS),
            "lm-embeddings": list(LM_TOKENIZERS), "lm": list(TINY_MODELS)}[_modality(modality)]


def preset_choices(modality: str) -> list[str]:
    return {"image": list(IMAGE_PRESETS), "audio": list(AUDIO_PRESETS), "text": [],
            "lm-embeddings": list(LM_PRESETS), "lm": list(TINY_PRESETS)}[_modality(modality)]


def data_choices(modality: str) -> list[str]:
    modality = _modality(modality)
    if modality == "image":
        from tokenworks.image.data import available, dataset_names

        return [n for n in dataset_names() if available(n)] + [UPLOADED]  # the ones whose assets are here
    if modality == "audio":
        return [BUNDLED_AUDIO, UPLOADED]
    if modality == "lm-embeddings":
        return list(LM_CORPORA)
    if modality == "lm":
        from tokenworks.lm.tiny.data import CORPORA as TINY_CORPORA

        return list(TINY_CORPORA)
    from tokenworks.text.corpora import CORPORA

    return list(CORPORA)


def default_data(modality: str) -> str:
    """emoji32 for image runs when its asset is here, else the first data set that is."""
    choices = data_choices(modality)
    return "emoji32" if "emoji32" in choices else choices[0]


def _modality(m: str) -> str:
    if m not in R.MODALITIES:
        raise InvalidInput(f"modality must be one of {', '.join(R.MODALITIES)}, not {m!r}")
    return m


def _upload_dir(kind: str) -> Path:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    return runs_dir() / "uploads" / f"{stamp}-{kind}"


def _whole(value: Any, what: str, lo: int, hi: int, note: str = "") -> int:
    """``value`` as a whole number in lo..hi; InvalidInput naming the range otherwise."""
    try:
        n = int(value)
    except (TypeError, ValueError, OverflowError):
        n = None
    if n is None or not lo <= n <= hi:
        raise InvalidInput(f"{what} must be between {lo:,} and {hi:,}{note}, not {value!r:.40}")
    return n


def _file_paths(files: Any) -> list[str]:
    """Uploaded files as paths: None, one path, or a list of paths (or of {"path": ...} from the API)."""
    if files is None or isinstance(files, (str, os.PathLike, dict)):
        files = [] if files is None else [files]
    if not isinstance(files, (list, tuple)):
        raise InvalidInput(f"files must be a list of uploaded files, not {type(files).__name__}")
    paths = [f.get("path") if isinstance(f, dict) else f for f in files]
    bad = [p for p in paths if not isinstance(p, (str, os.PathLike))]
    if bad:
        raise InvalidInput(f"files must be uploaded files (paths), not {type(bad[0]).__name__} {bad[0]!r:.40}")
    return [str(p) for p in paths]


def trainer_args(req: NewRun, files: Sequence[str] | None = None) -> tuple[list[str], dict[str, str], str]:
    """The trainer's arguments for a new run, a summary for listings, and a note for the person."""
    m = _modality(req.modality)
    files = _file_paths(files)
    if req.model not in model_choices(m):
        raise InvalidInput(f"{m} model must be one of {', '.join(model_choices(m))}, not {req.model!r}")
    if req.steps is not None:
        _whole(req.steps, "steps", 1, MAX_STEPS, " (or 0 for the preset's)")
    _whole(req.seed, "seed", 0, 2**31 - 1)
    note = ""
    argv: list[str]
    if m == "text":
        if req.data not in data_choices(m):
            raise InvalidInput(f"text corpus must be one of {', '.join(data_choices(m))}, not {req.data!r}")
        _whole(req.vocab_size, "vocab size", 260, 200_000)
        argv = ["--algo", req.model, "--vocab", str(int(req.vocab_size)), "--corpus", req.data]
        summary = {"model": req.model, "data": req.data, "vocab_size": str(int(req.vocab_size))}
        return argv, summary, note
    if req.preset not in preset_choices(m):
        raise InvalidInput(f"{m} preset must be one of {', '.join(preset_choices(m))}, not {req.preset!r}")
    if m == "lm-embeddings":
        if req.data not in data_choices(m):
            raise InvalidInput(f"training text must be one of {', '.join(data_choices(m))}, not {req.data!r}")
        argv = ["--tokenizer", req.model, "--preset", req.preset, "--corpus", req.data, "--seed", str(int(req.seed))]
        argv += ["--steps", str(int(req.steps))] if req.steps is not None else []
        return argv, {"model": req.model, "data": req.data, "preset": req.preset}, note
    if m == "lm":
        if req.data not in data_choices(m):
            raise InvalidInput(f"training text must be one of {', '.join(data_choices(m))}, not {req.data!r}")
        reads = ["--input", req.model] if "/" not in req.model else ["--input", "tokens", "--tokenizer", req.model]
        argv = [*reads, "--preset", req.preset, "--corpus", req.data, "--seed", str(int(req.seed))]
        argv += ["--steps", str(int(req.steps))] if req.steps is not None else []
        return argv, {"model": req.model, "data": req.data, "preset": req.preset}, note
    data = req.data
    if data not in data_choices(m):
        raise InvalidInput(f"{m} data must be one of {', '.join(data_choices(m))}, not {data!r}")
    if data == UPLOADED or (files and m != "text"):
        if not files:
            raise InvalidInput(f"choose files to upload first (or pick a bundled data set). {LIMITS}")
        if m == "image":
            from tokenworks.image.upload import build_image_upload

            size = 64 if req.model == "flex1d" else 32
            up = build_image_upload(files, size, _upload_dir("images"))
            data_arg, label = str(up.folder), f"{len(up.sources)} uploaded pictures"
            note = (f"{len(up.sources)} pictures -> {up.train_images} training and {up.test_images} test crops "
                    f"({size}x{size})" + ("" if up.disjoint else "; with one picture the test crops come from it too"))
            rejected = up.rejected
        else:
            from tokenworks.audio.upload import build_audio_upload

            up_a = build_audio_upload(files, _upload_dir("audio"))
            data_arg, label = str(up_a.folder), f"{up_a.clips} uploaded clips"
            note = f"{up_a.clips} clips, {up_a.seconds:.1f} s of audio"
            rejected = up_a.rejected
        if rejected:
            note += "; not used: " + "; ".join(f"{r.name} ({r.reason})" for r in rejected[:5])
    else:
        data_arg, label = data, data
    if m == "image":
        argv = ["--model", req.model, "--preset", req.preset, "--data", data_arg, "--seed", str(int(req.seed))]
        if req.quantizer != "preset":
            if req.quantizer not in IMAGE_QUANTIZERS:
                raise InvalidInput(f"quantizer must be one of {', '.join(IMAGE_QUANTIZERS)}, not {req.quantizer!r}")
            argv += ["--set", f'quantizer="{req.quantizer}"']
    else:
        argv = ["--design", req.model, "--preset", req.preset, "--seed", str(int(req.seed))]
        if data_arg != BUNDLED_AUDIO:
            argv += ["--wav-dir", data_arg]
    if req.steps is not None:
        argv += ["--steps", str(int(req.steps))]
    summary = {"model": req.model, "data": label, "preset": req.preset}
    if m == "image" and req.quantizer != "preset":
        summary["quantizer"] = req.quantizer
    return argv, summary, note


def start_run(req: NewRun, files: Sequence[str] | None = None) -> tuple[str, str]:
    """Register the run and start its job; returns (run id, a message for the person)."""
    argv, summary, note = trainer_args(req, files)
    info = jobs.submit(req.modality, argv, summary)
    holder = jobs.DeviceLock(info.device or "cpu").holder()
    where = (f"queued: the {info.device} is training run `{holder.run_id}`; this one starts when it ends"
             if holder and holder.run_id != info.id else "starting")
    return info.id, f"Run `{info.id}` {where}." + (f" {note}." if note else "")
