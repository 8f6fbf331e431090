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
from tokenworks.text.udhr import UDHR
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


UI = L.LanguagesUI.named()  # handlers return {component: value}; here every component is its own name


@pytest.fixture(scope="module")
def tiny_table(lang):
    """Bytes: English 4 bytes per article, xxx 8 (premium 2), yyy 2 (premium 0.5, Cyrillic, no location).
    Families: eng and xxx "Germanic-ish", yyy none ("unknown")."""
    udhr = UDHR({"eng": lang("eng", "abcd", family="Germanic-ish"),
                 "xxx": lang("xxx", "abcdéé", lat=-5.0, lon=100.0, family="Germanic-ish"),
                 "yyy": lang("yyy", "ab", lat=None, lon=None, script="Cyrl")})
    return parity_table(["text/bytes", "text/chars"], udhr=udhr)


def _markers(fig):
    """The language markers: the last trace, under which the outlines lie."""
    pts = fig.data[-1]
    assert pts.mode == "markers"
    return pts


# ---- figures -----------------------------------------------------------------------------------


def test_map_has_one_point_per_placed_language_and_counts_the_rest(tiny_table):
    fig = parity_map(tiny_table, "text/bytes", coastlines=False)
    assert len(fig.data) == 1 and fig.layout.meta["coastlines"] is False
    pts = _markers(fig)
    assert sorted(pts.customdata) == ["eng", "xxx"]  # yyy has no location
    assert fig.layout.meta["placed"] == 2 and fig.layout.meta["not_placed"] == 1
    assert "1 not placed" in fig.layout.title.text
    i = list(pts.customdata).index("xxx")
    assert pts.marker.color[i] == pytest.approx(math.log2(2.0))  # log colour scale, premium 2
    assert (pts.x[i], pts.y[i]) == (100.0, -5.0)  # lon, lat
    assert "XXX" in pts.text[i] and "premium 2.00x" in pts.text[i] and "Latn" in pts.text[i]
    assert "family Germanic-ish" in pts.text[i]
    geo = parity_map(tiny_table, "text/bytes", basemap="plotly")
    assert len(geo.data) == 1 and geo.data[0].type == "scattergeo" and list(geo.data[0].lat) == list(pts.y)


def test_map_draws_coastlines_under_the_markers_when_the_asset_is_there(tiny_table):
    if not _have("world-atlas"):
        pytest.skip("asset world-atlas not fetched (tokenworks assets fetch world-atlas)")
    fig = parity_map(tiny_table, "text/bytes")
    assert [t.name for t in fig.data] == ["coastlines", "borders", "bytes"]
    coast = fig.data[0]
    assert coast.mode == "lines" and coast.hoverinfo == "skip"
    lons = [x for x in coast.x if x == x]  # NaN separates rings
    assert len(lons) > 3000 and min(lons) == pytest.approx(-180) and max(lons) == pytest.approx(180)
    assert sum(x != x for x in coast.x) >= 100  # one NaN after each of the >100 land rings
    assert sorted(_markers(fig).customdata) == ["eng", "xxx"]
    assert fig.layout.meta["coastlines"] is True and "no coastlines" not in fig.layout.title.text


def test_map_without_the_world_asset_still_draws_and_says_so(tiny_table, monkeypatch):
    import tokenworks.viz._world as world

    def missing():
        raise AssetMissing("asset world-atlas is not here; run `tokenworks assets fetch world-atlas`")

    monkeypatch.setattr(world, "world_outlines", missing)
    fig = parity_map(tiny_table, "text/bytes")
    assert len(fig.data) == 1 and sorted(_markers(fig).customdata) == ["eng", "xxx"]
    assert "no coastlines: `tokenworks assets fetch world-atlas`" in fig.layout.title.text


def test_map_filters_by_family_and_script(tiny_table):
    fig = parity_map(tiny_table, "text/bytes", family="germanic-ish", coastlines=False)
    assert sorted(_markers(fig).customdata) == ["eng", "xxx"] and fig.layout.meta["not_placed"] == 0
    assert "(family germanic-ish)" in fig.layout.title.text
    fig = parity_map(tiny_table, "text/bytes", family="unknown", coastlines=False)
    assert len(_markers(fig).customdata) == 0 and fig.layout.meta["not_placed"] == 1
    with pytest.raises(InvalidInput, match="families here: Germanic-ish, unknown"):
        parity_map(tiny_table, "text/bytes", family="Uralic")


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
    assert list(df.columns) == ["code", "name", "script", "family", "bytes", "bytes tokens", "bytes premium",
                                "bytes lossy",
                                "chars tokens", "chars premium", "chars lossy"]
    assert list(df["code"]) == ["yyy", "eng", "xxx"]
    assert df.set_index("code").loc["eng", "bytes premium"] == 1.0
    assert list(df["family"]) == ["unknown", "Germanic-ish", "Germanic-ish"]
    assert L.family_choices(tiny_table) == [L.ALL_FAMILIES, "Germanic-ish (2)", "unknown (1)"]
    assert L._family_name("Germanic-ish (2)") == "Germanic-ish" and L._family_name("Niger (Congo)") == "Niger (Congo)"
    assert L._family_name(L.ALL_FAMILIES) is None
    path = L.write_csv(tiny_table, "tiny")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 1 + 6


def test_show_fills_the_view_and_the_dropdowns_by_name(tiny_table, monkeypatch):
    import plotly.graph_objects as go

    monkeypatch.setattr(L, "compute", lambda names, languages=None: (tiny_table, []))
    out = L.show(UI, ["text/bytes", "text/chars"], L.ALL_SCRIPTS, "text/chars", "Germanic-ish (2)")
    assert set(out) == {"status", "table", "plot", "bars", "csv", "script", "family", "map_tok"}
    assert "**2 languages** of the Germanic-ish family" in out["status"]
    assert sorted(out["table"]["code"]) == ["eng", "xxx"] and out["csv"].endswith(".csv")
    assert isinstance(out["plot"], go.Figure) and isinstance(out["bars"], go.Figure)
    assert out["plot"].layout.meta["tokenizer"] == "text/chars"
    assert out["script"]["choices"][0] == L.ALL_SCRIPTS and out["script"]["value"] == L.ALL_SCRIPTS
    assert out["family"] == {"__type__": "update", "choices": [L.ALL_FAMILIES, "Germanic-ish (2)", "unknown (1)"],
                             "value": "Germanic-ish (2)"}
    assert out["map_tok"]["choices"] == ["text/bytes", "text/chars"] and out["map_tok"]["value"] == "text/chars"


# ---- handlers on real declarations ------------------------------------------------------------


def test_missing_udhr_asset_is_a_message(monkeypatch):
    import tokenworks.text.udhr as udhr_mod

    def missing():
        raise AssetMissing("asset udhr is not here; run `tokenworks assets fetch udhr`")

    monkeypatch.setattr(udhr_mod, "load_udhr", missing)
    v = L.view(["text/bytes"], L.ALL_SCRIPTS, None, languages="eng,fra")
    assert "tokenworks assets fetch udhr" in v.status and v.status.startswith("⚠️")
    assert v.map_figure is None and v.csv_path is None and v.frame.empty
    out = L.show(UI, ["text/bytes"])  # the UI handler: the same message, no exception
    assert "fetch udhr" in out["status"]
    assert out["plot"] is None and out["csv"] is None and out["table"].empty
    assert out["script"]["value"] == L.ALL_SCRIPTS and out["family"]["value"] == L.ALL_FAMILIES
    assert set(out) == {"status", "table", "plot", "bars", "csv", "script", "family", "map_tok"}


def test_no_tokenizer_and_too_many_are_messages():
    assert "choose 1 to 3" in L.view([], L.ALL_SCRIPTS).status
    assert "at most 3" in L.view(["text/bytes", "text/chars", "text/r50k_base", "text/o200k_base"]).status


@needs_assets
def test_view_on_a_few_languages(tmp_path):
    v = L.view(["text/o200k_base", "text/r50k_base"], L.ALL_SCRIPTS, None, languages=LANGS)
    assert "6 languages" in v.status and "⚠️" not in v.status
    cols = list(v.frame.columns)
    assert cols[:5] == ["code", "name", "script", "family", "bytes"]
    for t in ("o200k_base", "r50k_base"):
        assert [f"{t} tokens", f"{t} premium", f"{t} lossy"] == cols[cols.index(f"{t} tokens"):][:3]
    eng = v.frame.set_index("code").loc["eng"]
    assert eng["o200k_base premium"] == 1.0 and eng["r50k_base premium"] == 1.0
    assert sorted(v.frame["code"]) == sorted(LANGS.split(","))
    placed = [r for r in v.table.rows if r.tokenizer == "text/o200k_base" and r.latitude is not None]
    assert len(_markers(v.map_figure).customdata) == len(placed) == 6
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


@pytest.mark.skipif(not _have("udhr", "bpe-openai", "uriel-families"),
                    reason="assets udhr, bpe-openai and uriel-families not all fetched")
def test_family_filter_narrows_the_table_and_the_map():
    langs = "eng,fra,rus,fin,cmn_hans,swh,eus"
    v = L.view(["text/o200k_base"], L.ALL_SCRIPTS, None, languages=langs)
    fams = v.frame.set_index("code")["family"].to_dict()
    assert fams == {"eng": "Indo-European", "fra": "Indo-European", "rus": "Indo-European", "fin": "Uralic",
                    "cmn_hans": "Sino-Tibetan", "swh": "Atlantic-Congo", "eus": "unknown"}
    assert v.families[0] == L.ALL_FAMILIES and v.families[1] == "Indo-European (3)" and v.families[-1] == "unknown (1)"
    assert "1 language has no known family" in v.status
    w = L.view(["text/o200k_base"], L.ALL_SCRIPTS, None, languages=langs, family="Indo-European (3)")
    assert sorted(w.frame["code"]) == ["eng", "fra", "rus"] and w.family == "Indo-European (3)"
    assert sorted(_markers(w.map_figure).customdata) == ["eng", "fra", "rus"]
    assert "3 languages** of the Indo-European family" in w.status
    with open(w.csv_path, newline="", encoding="utf-8") as fh:
        assert sorted(r["code"] for r in csv.DictReader(fh)) == ["eng", "fra", "rus"]
    # both filters apply; the family choices count the chosen script's languages
    cyrl = next(s for s in v.scripts if s.startswith("Cyrl"))
    x = L.view(["text/o200k_base"], cyrl, None, languages=langs, family="Indo-European")
    assert list(x.frame["code"]) == ["rus"] and x.families == [L.ALL_FAMILIES, "Indo-European (1)"]
    # a family absent from the chosen script falls back to all families, with a note
    y = L.view(["text/o200k_base"], cyrl, None, languages=langs, family="Uralic (1)")
    assert list(y.frame["code"]) == ["rus"] and y.family == L.ALL_FAMILIES
    assert "no language here written in Cyrl is of the family Uralic" in y.status
