"""Classical codec baselines at known bitrates, run through Debian command-line tools.

    res = run_baseline("opus-6k", wave, sr)       # BaselineResult
    res.wave                                      # (N,) float32 at 16 kHz, as long as the input
    res.bits_per_second, res.file_bits_per_second # measured from the bytes the codec wrote

``BASELINES`` is the standard set (``BASELINE_NAMES`` their names):

| name | what runs | codec rate | tools (Debian package) |
|---|---|---|---|
| opus-6k, opus-8k, opus-12k | ``opusenc --bitrate B --hard-cbr``, ``opusdec --rate 16000`` | 16 kHz in (Opus runs at 48 kHz inside; at these rates it codes narrow/medium band SILK) | opus-tools |
| mp3-8k | ``lame -m m --cbr -b 8`` on audio resampled to 8 kHz (MPEG-2.5 layer III) | 8 kHz | lame |
| mp3-16k, mp3-24k | ``lame -m m --cbr -b 16`` / ``-b 24`` at 16 kHz (MPEG-2 layer III) | 16 kHz | lame |
| codec2-700C, codec2-3200 | ``c2enc MODE`` / ``c2dec MODE`` on raw signed 16-bit 8 kHz | 8 kHz | codec2 |
| mulaw-4, mulaw-6, mulaw-8 | mu = 255 companding, 2**bits levels per sample (``tokenworks.audio.mulaw``) | 16 kHz | none |

Choices, stated:

- Opus uses ``--hard-cbr``: every 20 ms packet has the same size (15 bytes at 6 kbit/s), so the
  bitrate is the setting on every clip and "equal bitrate" holds packet by packet. Opus's
  default VBR spends fewer bits on silence and easy passages, so its average rate depends on the
  content; it would sound somewhat better at the same average rate. This is the conservative
  (harder on Opus) choice.
- Codec2 is narrow band by design (8 kHz sampling, nothing above 4 kHz): input is resampled
  16 -> 8 kHz and the output back to 16 kHz, so the wide-band metrics (PESQ-WB, mel distance)
  count the missing upper band against it. It is also parametric: it keeps the spectral envelope
  and pitch, not the waveform, so SI-SDR is meaningless for it (strongly negative).
- MP3 at 8 kbit/s needs 8 kHz audio (MPEG-2.5; the lowest rate lame offers); lame chooses its own
  low-pass filter at these rates.
- Resampling uses scipy's resample_poly (``tokenworks.audio.io.resample``), like every audio path.

Bytes and bitrates. ``payload_bytes`` is the coded bitstream only; ``file_bytes`` is the whole
file the tool wrote. ``bits_per_second = payload_bytes * 8 / duration`` and
``file_bits_per_second = file_bytes * 8 / duration`` use the *input* duration, so a codec's
padding of the last frame (and MP3's encoder delay frames) counts against it:

- Opus: payload = the sizes of the Opus audio packets read from the Ogg pages; the container
  overhead (Ogg page headers, the OpusHead and OpusTags header packets) is in file_bytes only.
- MP3: payload = every MPEG audio frame (its 4-byte header included, as in the nominal rate);
  ID3 tags and a Xing/Info tag frame count as container overhead.
- Codec2: the .bit file is headerless, payload = file. 700C frames are 28 bits every 40 ms but
  c2enc stores each in 4 whole bytes, so the file runs at 800 bit/s against the nominal 700.
- mu-law: codes packed at ``bits`` bits per sample, no container: payload = file =
  ceil(N * bits / 8). It is a sample-level baseline at 64 / 96 / 128 kbit/s, far above the rest.

The decoded wave is brought back to the input's length: a constant codec delay (MP3's encoder
delay, Codec2's frame delay) is found with ``tokenworks.metrics.audio.align`` and removed, then
the end is trimmed or zero-padded; ``delay`` and ``notes`` say what was done.

Measured with ``python -m tokenworks.audio.baselines 10``: the first 10 s of a flite (slt voice,
16 kHz) English utterance; bits/s over the input duration; metrics after delay removal:

| name | nominal | payload bit/s | file bit/s | delay | PESQ-WB | STOI | SI-SDR dB | mel L1 |
|---|---|---|---|---|---|---|---|---|
| opus-6k | 6000 | 6012 | 7323 | 1 | 1.52 | 0.86 | 7.3 | 0.55 |
| opus-8k | 8000 | 8016 | 9327 | 1 | 2.36 | 0.96 | 16.0 | 0.49 |
| opus-12k | 12000 | 12024 | 13335 | -1 | 2.68 | 0.97 | 17.3 | 0.15 |
| mp3-8k | 8000 | 8122 | 8122 | 1152 | 1.53 | 0.89 | 17.9 | 1.28 |
| mp3-16k | 16000 | 16128 | 16128 | 576 | 1.88 | 0.97 | 21.0 | 0.55 |
| mp3-24k | 24000 | 24192 | 24192 | 576 | 2.40 | 0.99 | 22.2 | 0.33 |
| codec2-700C | 700 | 800 | 800 | 423 | 1.05 | 0.64 | -31.3 | 0.97 |
| codec2-3200 | 3200 | 3200 | 3200 | 327 | 1.07 | 0.75 | -18.8 | 0.87 |
| mulaw-4 | 64000 | 64000 | 64000 | 0 | 1.05 | 0.80 | 12.8 | 0.72 |
| mulaw-6 | 96000 | 96000 | 96000 | 0 | 1.39 | 0.96 | 25.6 | 0.32 |
| mulaw-8 | 128000 | 128000 | 128000 | 0 | 2.93 | 1.00 | 37.9 | 0.12 |

Ogg costs Opus about 1.3 kbit/s (22 % at 6 kbit/s) of page headers and header packets; lame
(3.100) wrote no ID3 or Info tag here, so its file is all payload, about 1 % over nominal from
the encoder delay and the padded last frame. PESQ-WB is harsh on narrow-band Codec2.
"""
from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import AssetMissing, InvalidInput, TokenworksError
from .io import SAMPLE_RATE, prepare, resample, write_wav

MAX_SECONDS = 600.0  # longest input a baseline codes (10 minutes; Opus codes that in seconds)
TIMEOUT_BASE_S = 30.0  # per tool call: this much plus TIMEOUT_PER_AUDIO_S per second of audio
TIMEOUT_PER_AUDIO_S = 0.5


class CodecFailed(TokenworksError, RuntimeError):
    """A codec tool exited with an error; the message holds its command and stderr."""


@dataclass(frozen=True)
class BaselineSpec:
    name: str  # "opus-6k"
    codec: str  # "opus" | "mp3" | "codec2" | "mulaw"
    setting: str  # human-readable setting, e.g. "6 kbit/s hard CBR"
    nominal_bps: int  # the bitrate the setting asks for
    codec_rate: int  # Hz the codec is fed (8000 for Codec2 and mp3-8k)
    tools: tuple[str, ...] = ()  # command-line tools it needs
    apt: str | None = None  # the Debian package that provides them


BASELINES: tuple[BaselineSpec, ...] = (
    BaselineSpec("opus-6k", "opus", "6 kbit/s hard CBR", 6000, 16000, ("opusenc", "opusdec"), "opus-tools"),
    BaselineSpec("opus-8k", "opus", "8 kbit/s hard CBR", 8000, 16000, ("opusenc", "opusdec"), "opus-tools"),
    BaselineSpec("opus-12k", "opus", "12 kbit/s hard CBR", 12000, 16000, ("opusenc", "opusdec"), "opus-tools"),
    BaselineSpec("mp3-8k", "mp3", "8 kbit/s CBR at 8 kHz (MPEG-2.5)", 8000, 8000, ("lame",), "lame"),
    BaselineSpec("mp3-16k", "mp3", "16 kbit/s CBR at 16 kHz (MPEG-2)", 16000, 16000, ("lame",), "lame"),
    BaselineSpec("mp3-24k", "mp3", "24 kbit/s CBR at 16 kHz (MPEG-2)", 24000, 16000, ("lame",), "lame"),
    BaselineSpec("codec2-700C", "codec2", "700C at 8 kHz", 700, 8000, ("c2enc", "c2dec"), "codec2"),
    BaselineSpec("codec2-3200", "codec2", "3200 at 8 kHz", 3200, 8000, ("c2enc", "c2dec"), "codec2"),
    BaselineSpec("mulaw-4", "mulaw", "4 bits/sample at 16 kHz, mu=255", 64000, 16000),
    BaselineSpec("mulaw-6", "mulaw", "6 bits/sample at 16 kHz, mu=255", 96000, 16000),
    BaselineSpec("mulaw-8", "mulaw", "8 bits/sample at 16 kHz, mu=255", 128000, 16000),
)
BASELINE_NAMES: tuple[str, ...] = tuple(b.name for b in BASELINES)
_BY_NAME = {b.name: b for b in BASELINES}


@dataclass
class BaselineResult:
    name: str  # "opus-6k"
    codec: str  # "opus"
    setting: str  # "6 kbit/s hard CBR"
    wave: np.ndarray  # (N,) float32 at sample_rate, as long as the (16 kHz) input
    payload_bytes: int  # the coded bitstream, container overhead excluded
    file_bytes: int  # the whole file the encoder wrote (container included)
    duration_s: float  # of the input
    nominal_bps: int  # what the setting asks for
    codec_rate: int  # Hz the codec ran at
    sample_rate: int = SAMPLE_RATE  # of ``wave``
    delay: int = 0  # samples of codec delay removed from the decoded output
    notes: list[str] = field(default_factory=list)  # what was done, for people

    @property
    def bits_per_second(self) -> float:
        """Payload bits per second of input (container overhead NOT counted)."""
        return self.payload_bytes * 8 / self.duration_s

    @property
    def file_bits_per_second(self) -> float:
        """Whole-file bits per second of input (container overhead counted)."""
        return self.file_bytes * 8 / self.duration_s


def spec(name: str) -> BaselineSpec:
    """The ``BaselineSpec`` called ``name``; an error that lists the valid names otherwise."""
    if name not in _BY_NAME:
        raise InvalidInput(f"unknown baseline {name!r}; choose one of: {', '.join(BASELINE_NAMES)}")
    return _BY_NAME[name]


def missing_tools(name: str) -> list[str]:
    """The command-line tools baseline ``name`` needs that are not on PATH ([] when ready)."""
    return [t for t in spec(name).tools if shutil.which(t) is None]


def _require_tools(s: BaselineSpec) -> None:
    missing = [t for t in s.tools if shutil.which(t) is None]
    if missing:
        raise AssetMissing(
            f"baseline {s.name} needs {', '.join(missing)}, which is not installed: it comes with "
            f"the Debian package {s.apt} (`sudo apt-get install {s.apt}`, or `make audio-deps`)")


def _run(cmd: list[str], seconds: float) -> None:
    timeout = TIMEOUT_BASE_S + TIMEOUT_PER_AUDIO_S * seconds
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise CodecFailed(f"`{' '.join(cmd)}` did not finish within {timeout:.0f} s") from None
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()[-600:]
        raise CodecFailed(f"`{' '.join(cmd)}` failed with exit code {proc.returncode}: {err}")


# ---- bitstream sizes ----------------------------------------------------------------------


def ogg_packet_sizes(data: bytes) -> list[int]:
    """Byte sizes of the packets in an Ogg stream, in order (one logical stream assumed)."""
    sizes, cur, pos = [], 0, 0
    while pos + 27 <= len(data):
        if data[pos:pos + 4] != b"OggS":
            raise InvalidInput(f"not an Ogg page at byte {pos}: the file is not an Ogg stream")
        n_seg = data[pos + 26]
        lacing = data[pos + 27:pos + 27 + n_seg]
        for v in lacing:  # a lacing value below 255 ends a packet
            cur += v
            if v < 255:
                sizes.append(cur)
                cur = 0
        pos += 27 + n_seg + sum(lacing)
    return sizes


def opus_payload_bytes(data: bytes) -> int:
    """Bytes of Opus audio packets in an Ogg Opus file (OpusHead and OpusTags left out)."""
    sizes = ogg_packet_sizes(data)
    return sum(sizes[2:])


_MP3_KBPS = {  # layer III bitrate tables (kbit/s) by MPEG version
    "1": (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    "2": (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {"1": (44100, 48000, 32000), "2": (22050, 24000, 16000), "2.5": (11025, 12000, 8000)}


@dataclass
class Mp3Frames:
    audio_bytes: int  # bytes of MPEG audio frames (headers included), tag frame excluded
    frames: int  # audio frames
    tag_bytes: int  # ID3v2/ID3v1 tags and a Xing/Info frame
    sample_rate: int  # of the frames
    bitrate_kbps: int  # of the first audio frame


def mp3_frames(data: bytes) -> Mp3Frames:
    """Walk the MPEG layer III frames of an MP3 file and count their bytes."""
    pos, tag, end = 0, 0, len(data)
    if data[:3] == b"ID3" and len(data) >= 10:  # ID3v2: 10-byte header + syncsafe size
        size = 10 + ((data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9])
        pos, tag = size, size
    if end >= 128 and data[end - 128:end - 125] == b"TAG":  # ID3v1 at the end
        end, tag = end - 128, tag + 128
    audio = frames = rate = kbps = 0
    while pos + 4 <= end:
        h = int.from_bytes(data[pos:pos + 4], "big")
        if (h >> 21) & 0x7FF != 0x7FF or (h >> 17) & 3 != 1:  # sync, layer III
            raise InvalidInput(f"no MPEG layer III frame header at byte {pos} of the MP3 file")
        version = {3: "1", 2: "2", 0: "2.5"}.get((h >> 19) & 3)
        br_i, sr_i, pad = (h >> 12) & 15, (h >> 10) & 3, (h >> 9) & 1
        if version is None or br_i in (0, 15) or sr_i == 3:
            raise InvalidInput(f"unsupported MPEG frame header {h:08x} at byte {pos}")
        br = _MP3_KBPS["1" if version == "1" else "2"][br_i] * 1000
        sr = _MP3_RATES[version][sr_i]
        length = (144 if version == "1" else 72) * br // sr + pad
        if frames == 0 and audio == 0 and (b"Xing" in data[pos:pos + length]
                                           or b"Info" in data[pos:pos + length]):
            tag += length  # the Xing/Info frame carries no audio
        else:
            audio, frames = audio + length, frames + 1
            rate, kbps = rate or sr, kbps or br // 1000
        pos += length
    return Mp3Frames(audio_bytes=audio, frames=frames, tag_bytes=tag, sample_rate=rate,
                     bitrate_kbps=kbps)


# ---- the codecs ---------------------------------------------------------------------------


@dataclass
class _Coded:
    wave: np.ndarray  # (M,) float decoded at 16 kHz, any length
    payload_bytes: int
    file_bytes: int
    notes: list[str]


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    x, sr = sf.read(str(path), dtype="float32", always_2d=True)  # (M, C)
    return x.mean(axis=1), int(sr)


def _opus(s: BaselineSpec, x: np.ndarray, tmp: Path, seconds: float) -> _Coded:
    write_wav(tmp / "in.wav", x, SAMPLE_RATE)
    kbps = str(s.nominal_bps // 1000)
    _run(["opusenc", "--quiet", "--hard-cbr", "--bitrate", kbps, str(tmp / "in.wav"),
          str(tmp / "out.opus")], seconds)
    _run(["opusdec", "--quiet", "--rate", str(SAMPLE_RATE), str(tmp / "out.opus"),
          str(tmp / "out.wav")], seconds)
    data = (tmp / "out.opus").read_bytes()
    y, sr = _read_wav(tmp / "out.wav")
    return _Coded(resample(y, sr, SAMPLE_RATE), opus_payload_bytes(data), len(data), [])


def _mp3(s: BaselineSpec, x: np.ndarray, tmp: Path, seconds: float) -> _Coded:
    xr = resample(x, SAMPLE_RATE, s.codec_rate)
    write_wav(tmp / "in.wav", xr, s.codec_rate)
    khz = f"{s.codec_rate / 1000:g}"
    _run(["lame", "--quiet", "-m", "m", "--cbr", "-b", str(s.nominal_bps // 1000),
          "--resample", khz, str(tmp / "in.wav"), str(tmp / "out.mp3")], seconds)
    _run(["lame", "--quiet", "--decode", str(tmp / "out.mp3"), str(tmp / "out.wav")], seconds)
    data = (tmp / "out.mp3").read_bytes()
    info = mp3_frames(data)
    y, sr = _read_wav(tmp / "out.wav")
    notes = [f"{info.frames} MP3 frames at {info.sample_rate} Hz, {info.bitrate_kbps} kbit/s"]
    if s.codec_rate != SAMPLE_RATE:
        notes.append(f"resampled to {s.codec_rate} Hz for the codec and back to {SAMPLE_RATE} Hz")
    return _Coded(resample(y, sr, SAMPLE_RATE), info.audio_bytes, len(data), notes)


def _codec2(s: BaselineSpec, x: np.ndarray, tmp: Path, seconds: float) -> _Coded:
    x8 = resample(x, SAMPLE_RATE, s.codec_rate)  # (N / 2,)
    pcm = (np.clip(x8, -1.0, 1.0) * 32767.0).round().astype("<i2")
    pcm.tofile(tmp / "in.raw")
    mode = s.name.split("-", 1)[1]  # "700C" | "3200"
    _run(["c2enc", mode, str(tmp / "in.raw"), str(tmp / "out.bit")], seconds)
    _run(["c2dec", mode, str(tmp / "out.bit"), str(tmp / "out.raw")], seconds)
    n_bytes = (tmp / "out.bit").stat().st_size
    y8 = np.fromfile(tmp / "out.raw", dtype="<i2").astype(np.float64) / 32768.0  # (M8,)
    notes = [f"narrow band: resampled to {s.codec_rate} Hz for Codec2 and back to {SAMPLE_RATE} Hz "
             "(nothing above 4 kHz survives)"]
    if y8.size == 0:
        notes.append("the clip is shorter than one Codec2 frame: nothing was coded")
    y = resample(y8, s.codec_rate, SAMPLE_RATE) if y8.size else y8
    return _Coded(y, n_bytes, n_bytes, notes)


def _mulaw(s: BaselineSpec, x: np.ndarray, tmp: Path, seconds: float) -> _Coded:
    from .mulaw import mulaw_quantize

    bits = int(s.name.split("-")[1])
    n_bytes = math.ceil(x.size * bits / 8)
    return _Coded(mulaw_quantize(x, bits).astype(np.float64), n_bytes, n_bytes, [])


_CODERS = {"opus": _opus, "mp3": _mp3, "codec2": _codec2, "mulaw": _mulaw}


def run_baseline(name: str, wave, sr: int, *, compensate_delay: bool = True) -> BaselineResult:
    """Code ``wave`` (N,) at ``sr`` with baseline ``name`` and decode it to 16 kHz.

    The input goes through ``tokenworks.audio.io.prepare`` (down-mix, resample to 16 kHz, NaN
    refused; its notes are kept) with a limit of ``MAX_SECONDS``.
    """
    from ..metrics.audio import align

    s = spec(name)
    _require_tools(s)
    clip = prepare(wave, sr, max_seconds=MAX_SECONDS)
    x = clip.wave.astype(np.float64)  # (N,) at 16 kHz
    with tempfile.TemporaryDirectory(prefix="tokenworks-codec-") as tmp:
        coded = _CODERS[s.codec](s, x, Path(tmp), clip.duration_s)
    notes = list(clip.notes) + coded.notes
    y, delay = coded.wave, 0
    if compensate_delay and s.codec != "mulaw" and y.size and np.any(y) and np.any(x):
        al = align(x, y, SAMPLE_RATE)
        y, delay = al.est, al.delay
        if delay:
            notes.append(f"removed a codec delay of {delay} samples ({1000 * delay / SAMPLE_RATE:.1f} ms)")
        if al.trimmed or al.padded:
            notes.append(f"decoded {coded.wave.size} samples for {x.size}: " + (
                f"trimmed {al.trimmed} at the end" if al.trimmed else f"zero-padded {al.padded} at the end"))
    if y.size != x.size:
        notes.append(f"decoded {y.size} samples for {x.size}: "
                     + ("trimmed the end" if y.size > x.size else "zero-padded the end"))
        y = np.pad(y[: x.size], (0, max(0, x.size - y.size)))
    return BaselineResult(
        name=s.name, codec=s.codec, setting=s.setting,
        wave=np.clip(y, -1.0, 1.0).astype(np.float32),
        payload_bytes=int(coded.payload_bytes), file_bytes=int(coded.file_bytes),
        duration_s=clip.duration_s, nominal_bps=s.nominal_bps, codec_rate=s.codec_rate,
        delay=delay, notes=notes,
    )


def main() -> None:  # pragma: no cover - a measuring script, not a test
    """``python -m tokenworks.audio.baselines [seconds]``: every baseline on flite speech."""
    import sys

    from ..metrics.audio import evaluate

    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    text = ("Tokenizers turn sound into numbers. A classical codec does the same with rules "
            "made by hand, and it has had decades of tuning for speech. The quick brown fox "
            "jumps over the lazy dog, and the five boxing wizards jump quickly.")
    with tempfile.TemporaryDirectory() as tmp:
        _run(["flite", "-voice", "slt", "-t", text, "-o", f"{tmp}/s.wav"], 60)
        x, sr = _read_wav(Path(tmp) / "s.wav")
    x = resample(x, sr, SAMPLE_RATE)
    x = np.pad(x, (0, max(0, int(seconds * SAMPLE_RATE) - x.size)))[: int(seconds * SAMPLE_RATE)]
    print(f"{x.size / SAMPLE_RATE:.2f} s of flite slt speech at 16 kHz")
    print(f"{'name':12} {'nominal':>8} {'payload':>9} {'file':>9} {'delay':>6} {'PESQ-WB':>7} "
          f"{'STOI':>5} {'SI-SDR':>7} {'mel':>5}")
    for b in BASELINES:
        if missing_tools(b.name):
            print(f"{b.name:12} skipped: {', '.join(missing_tools(b.name))} missing")
            continue
        r = run_baseline(b.name, x, SAMPLE_RATE)
        sc = evaluate(x, r.wave, SAMPLE_RATE, compensate_delay=False)
        print(f"{b.name:12} {b.nominal_bps:8d} {r.bits_per_second:9.0f} {r.file_bits_per_second:9.0f} "
              f"{r.delay:6d} {sc.pesq_wb:7.2f} {sc.stoi:5.2f} {sc.si_sdr:7.1f} {sc.mel_distance:5.2f}")


if __name__ == "__main__":  # pragma: no cover
    main()
