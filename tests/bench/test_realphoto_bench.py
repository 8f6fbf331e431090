"""The realphoto bench group (image/benchmarks.py: ``bench_realphoto``, ``tokenworks bench --only
realphoto``) on tiny inputs: a few sample images stand in for the held-out real-photo crops, so no
data set has to be built. Rows are checked for shape, wiring and honesty (no number where there is
no 128x128 tokenizer), never for speed or for who wins."""
from __future__ import annotations

import math

import numpy as np
import pytest
from tokenworks.bench import runner
from tokenworks.image import benchmarks as ib
from tokenworks.image.evaluate import BYTE_BUDGETS


@pytest.fixture(autouse=True)
def _fresh_codec_cache(monkeypatch):
    monkeypatch.setattr(ib, "_BEST", {})  # best_at_budget results are keyed by data set name and size


def _check_ratio(row) -> None:
    assert row.value > 0 and row.anchor_value > 0
    assert row.ratio == pytest.approx(row.value / row.anchor_value, rel=1e-6)


def test_codec_only_rows_say_there_is_no_tokenizer():
    images = ib._sample_images(128, 1)  # (1, 128, 128, 3)
    rows = ib.codec_only_rows(images, "realphoto128", (400, 800), "1 sample image")
    assert [(r.name.split(" B ")[0], r.anchor.endswith(f"({c} bytes)")) for r, c in
            zip(rows, ["file", "payload"] * 2)] == [("128x128 tokenizer PSNR at 400", True)] * 2 + \
        [("128x128 tokenizer PSNR at 800", True)] * 2
    for r in rows:
        assert r.group == "realphoto" and "no 128x128 tokenizer yet" in r.name and "no 128x128 tokenizer yet" in r.notes
        assert math.isnan(r.value) and math.isnan(r.ratio)  # not measured, not invented
        assert 10 < r.anchor_value < 100  # the best codec's PSNR in dB


def test_rate_distortion_rows_at_fixed_budgets(tiny_image_tokenizer):
    """A 16-token model cannot fill 100 B: every budget gets all of its tokens and says so."""
    tok = tiny_image_tokenizer("flex1d")
    images = ib._sample_images(64, 2)  # (2, 64, 64, 3)
    rows = ib.rate_distortion_rows(tok, tok.name, "realphoto64", images, images, group="realphoto",
                                   where="2 sample images", budgets=BYTE_BUDGETS)
    psnr_rows = [r for r in rows if r.unit == "dB"]
    assert len(psnr_rows) == 2 * len(BYTE_BUDGETS) and len(rows) == len(psnr_rows) + 2  # + monotone, codebook
    for r, b in zip(psnr_rows, [b for b in BYTE_BUDGETS for _ in range(2)]):
        assert r.group == "realphoto" and r.name.startswith(f"{tok.name} PSNR at {b} B (16 tokens), 2 sample images")
        assert "tokenizer minus best codec" in r.notes and "all 16 tokens take 20 B, under the budget" in r.notes
        _check_ratio(r)
    assert len({r.value for r in psnr_rows}) == 1  # the same 16 tokens at every budget


def test_bench_only_realphoto(monkeypatch):
    """``tokenworks bench --only realphoto`` wiring on the shipped photo tokenizer, with sample images
    in place of the held-out crops: per budget file and payload rows with the margin, then the
    codec-only 128x128 rows."""
    assert "realphoto" in runner.GROUPS
    assert runner.benches(("realphoto",)) == ib.REALPHOTO_BENCHES
    samples = {"realphoto64": ib._sample_images(64, 2), "realphoto128": ib._sample_images(128, 1)}
    monkeypatch.setattr(ib, "_realphoto_test", lambda data, quick: (samples[data], f"{len(samples[data])} samples"))
    monkeypatch.setattr(ib, "_train_images", lambda data, quick: samples[data])
    rows = runner.run(quick=True, groups=("realphoto",))["rows"]
    assert rows and all(r["group"] == "realphoto" for r in rows)
    tok_rows = [r for r in rows if r["name"].startswith("image/flex1d-photo64 PSNR at ")]
    assert [r["name"].split(" (")[0] for r in tok_rows] == [f"image/flex1d-photo64 PSNR at {b} B"
                                                              for b in BYTE_BUDGETS for _ in range(2)]
    assert [r["anchor"].rsplit("(", 1)[1] for r in tok_rows] == ["file bytes)", "payload bytes)"] * 3
    for r in tok_rows:
        assert np.isfinite(r["value"]) and r["value"] > 0 and r["anchor_value"] > 0
        margin = float(r["notes"].split(" dB", 1)[0].removeprefix("delta "))
        assert margin == pytest.approx(r["value"] - r["anchor_value"], abs=0.006)
    none = [r for r in rows if "no 128x128 tokenizer yet" in r["name"]]
    assert [r["name"].split(" (")[0] for r in none] == [f"128x128 tokenizer PSNR at {b} B"
                                                        for b in ib.REALPHOTO_CODEC_ONLY[1] for _ in range(2)]
    assert all(math.isnan(r["value"]) and r["anchor_value"] > 0 for r in none)
