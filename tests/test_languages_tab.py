"""Languages tab: handlers as plain functions, and the parity figures.

The figures are checked on a tiny in-memory UDHR with the byte tokenizer (no asset needed); the
handlers run on a few real declarations and skip when the udhr or OpenAI vocabulary assets are not
fetched (`tokenworks assets fetch udhr bpe-openai`).
"""
from __future__ import annotations

import csv
import math

import pytest

from app import languages_tab as L
from tokenworks.errors import AssetMissing, InvalidInput
from tokenworks.text.parity import CSV_COLUMNS, parity_table
from tokenworks.text.udhr import UDHR, Language
from tokenworks.viz.languages import parity_map, premium_bars

pytestmark = [pytest.mark.app, pytest.mark.filterwarnings("ignore::UserWarning")]

LANGS = "eng,fra,rus,cmn_hans,arb,hin"


def _have(*names: str) -> bool:
    from tokenworks.assets import asset_path

    try:
        for n in names:
            asset_path(n)
        return True
    except AssetMissing:
        return False


needs_assets = pytest.mark.skipif(not _have("udhr", "bpe-openai"),
                                  reason="assets udhr and bpe-openai not fetched (tokenworks assets fetch ...)")


def _lang(code, text, lat=10.0, lon=20.0, script="Latn"):
    return Language(code=code, name=code.upper(), bcp47=code, iso6393=code, direction="ltr", stage=4,
                    latitude=lat, longitude=lon, script=script, script_name={"Latn": "Latin", "Cyrl": "Cyrillic"}[script],
                    family=None, articles={n: text for n in range(1, 31)})


@pytest.fixture(scope="module")
def tiny_table():
    """Bytes: English 4 bytes per article, xxx 8 (premium 2), yyy 2 (premium 0.5, Cyrillic, no location)."""
    udhr = UDHR({"eng": _lang("eng", "abcd"), "xxx": _lang("xxx", "abcdéé", lat=-5.0, lon=100.0),
                 "yyy": _lang("yyy", "ab", lat=None, lon=None, script="Cyrl")})
    return parity_table(["text/bytes", "text/chars"], udhr=udhr)


# ---- figures -----------------------------------------------------------------------------------


def test_map_has_one_point_per_placed_language_and_counts_the_rest(tiny_table):
    fig = parity_map(tiny_table, "text/bytes")
    assert len(fig.data) == 1
    pts = fig.data[0]
    assert sorted(pts.customdata) == ["eng", "xxx"]  # yyy has no location
    assert fig.layout.meta["placed"] == 2 and fig.layout.meta["not_placed"] == 1
    assert "1 not placed" in fig.layout.title.text
    i = list(pts.customdata).index("xxx")
    assert pts.marker.color[i] == pytest.approx(math.log2(2.0))  # log colour scale, premium 2
    assert (pts.x[i], pts.y[i]) == (100.0, -5.0)  # lon, lat
    assert "XXX" in pts.text[i] and "premium 2.00x" in pts.text[i] and "Latn" in pts.text[i]
    geo = parity_map(tiny_table, "text/bytes", basemap="plotly")
    assert geo.data[0].type == "scattergeo" and list(geo.data[0].lat) == list(pts.y)


def test_map_errors_name_the_choices(tiny_table):
    with pytest.raises(InvalidInput, match="text/bytes"):
        parity_map(tiny_table, "text/o200k_base")
    with pytest.raises(InvalidInput, match="none, plotly"):
        parity_map(tiny_table, "text/bytes", basemap="tiles")


def test_premium_bars_sorted_one_trace_per_tokenizer(tiny_table):
    fig = premium_bars(tiny_table, ["text/bytes", "text/chars"])
    assert [t.name for t in fig.data] == ["bytes", "chars"]
    assert list(fig.data[0].y) == sorted(fig.data[0].y)  # sorted by the first tokenizer
    assert list(fig.data[0].y) == pytest.approx([0.5, 1.0, 2.0])
    assert fig.layout.yaxis.type == "log"


def test_wide_frame_and_csv(tiny_table, tmp_path):
    df = L.wide_frame(tiny_table)
    assert list(df.columns) == ["code", "name", "script", "bytes", "bytes tokens", "bytes premium", "bytes lossy",
                                "chars tokens", "chars premium", "chars lossy"]
    assert list(df["code"]) == ["yyy", "eng", "xxx"]
    assert df.set_index("code").loc["eng", "bytes premium"] == 1.0
    path = L.write_csv(tiny_table, "tiny")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 1 + 6


# ---- handlers on real declarations ------------------------------------------------------------


def test_missing_udhr_asset_is_a_message(monkeypatch):
    import tokenworks.text.udhr as udhr_mod

    def missing():
        raise AssetMissing("asset udhr is not here; run `tokenworks assets fetch udhr`")

    monkeypatch.setattr(udhr_mod, "load_udhr", missing)
    v = L.view(["text/bytes"], L.ALL_SCRIPTS, None, languages="eng,fra")
    assert "tokenworks assets fetch udhr" in v.status and v.status.startswith("⚠️")
    assert v.map_figure is None and v.csv_path is None and v.frame.empty
    out = L.show(["text/bytes"])  # the UI handler: the same message, no exception
    assert "fetch udhr" in out[0]


def test_no_tokenizer_and_too_many_are_messages():
    assert "choose 1 to 3" in L.view([], L.ALL_SCRIPTS).status
    assert "at most 3" in L.view(["text/bytes", "text/chars", "text/r50k_base", "text/o200k_base"]).status


@needs_assets
def test_view_on_a_few_languages(tmp_path):
    v = L.view(["text/o200k_base", "text/r50k_base"], L.ALL_SCRIPTS, None, languages=LANGS)
    assert "6 languages" in v.status and "⚠️" not in v.status
    cols = list(v.frame.columns)
    assert cols[:4] == ["code", "name", "script", "bytes"]
    for t in ("o200k_base", "r50k_base"):
        assert [f"{t} tokens", f"{t} premium", f"{t} lossy"] == cols[cols.index(f"{t} tokens"):][:3]
    eng = v.frame.set_index("code").loc["eng"]
    assert eng["o200k_base premium"] == 1.0 and eng["r50k_base premium"] == 1.0
    assert sorted(v.frame["code"]) == sorted(LANGS.split(","))
    placed = [r for r in v.table.rows if r.tokenizer == "text/o200k_base" and r.latitude is not None]
    assert len(v.map_figure.data[0].customdata) == len(placed) == 6
    assert v.map_tokenizer == "text/o200k_base" and v.map_choices == ["text/o200k_base", "text/r50k_base"]
    with open(v.csv_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(CSV_COLUMNS) and len(rows) == 12
    # the script filter: its choices come from the table; Cyrillic leaves Russian alone
    cyrl = next(s for s in v.scripts if s.startswith("Cyrl"))
    w = L.view(["text/o200k_base", "text/r50k_base"], cyrl, "text/r50k_base", languages=LANGS)
    assert list(w.frame["code"]) == ["rus"] and w.map_tokenizer == "text/r50k_base"
    assert w.map_figure.layout.meta["tokenizer"] == "text/r50k_base"
    # an unknown script falls back to all, with a note
    x = L.view(["text/o200k_base"], "Zzzz · nothing (0)", None, languages=LANGS)
    assert len(x.frame) == 6 and "no language here is written in Zzzz" in x.status


@needs_assets
def test_a_tokenizer_that_fails_leaves_the_others(monkeypatch):
    v = L.view(["text/o200k_base", "text/not-a-tokenizer"], L.ALL_SCRIPTS, None, languages="eng,fra")
    assert "text/not-a-tokenizer could not be measured" in v.status
    assert list(v.map_choices) == ["text/o200k_base"] and len(v.frame) == 2
