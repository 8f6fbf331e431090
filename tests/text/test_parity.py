"""UDHR loader, parity table and `tokenworks eval parity`.

Tests on the real declarations skip when the udhr asset is not fetched
(`tokenworks assets fetch udhr`); the hand-checked ones build a tiny UDHR in memory.
"""
from __future__ import annotations

import csv

import numpy as np
import pytest

from tokenworks.cli import main
from tokenworks.core import SpanTable, TokenSeq
from tokenworks.errors import AssetMissing, InvalidInput, UnknownTokenizer
from tokenworks.text.parity import CSV_COLUMNS, parity_table
from tokenworks.text.udhr import UDHR, Language, load_udhr, parse_declaration, parse_index


def _have(asset: str) -> bool:
    from tokenworks.assets import asset_path

    try:
        asset_path(asset)
        return True
    except AssetMissing:
        return False


needs_udhr = pytest.mark.skipif(not _have("udhr"), reason="asset udhr not fetched (tokenworks assets fetch udhr)")
needs_openai = pytest.mark.skipif(not (_have("udhr") and _have("bpe-openai") and _have("whisper-vocab")),
                                  reason="assets udhr, bpe-openai, whisper-vocab not all fetched")


@pytest.fixture(scope="module")
def udhr():
    if not _have("udhr"):
        pytest.skip("asset udhr not fetched (tokenworks assets fetch udhr)")
    return load_udhr()


def _lang(code: str, articles: dict[int, str], script: str = "Latn", family: str | None = None) -> Language:
    return Language(code=code, name=code.upper(), bcp47=code, iso6393=code, direction="ltr", stage=4,
                    latitude=1.0, longitude=2.0, script=script,
                    script_name={"Latn": "Latin", "Cyrl": "Cyrillic"}[script], family=family,
                    articles=articles)


def _tiny() -> UDHR:
    """Three declarations: English with 4 characters per article, "xxx" with 6 characters and 7 bytes
    per article (é is 2 bytes), and "yyy" (Cyrillic) with only articles 1 and 2."""
    return UDHR({
        "eng": _lang("eng", {n: "abcd" for n in range(1, 31)}),
        "xxx": _lang("xxx", {n: "abcdeé" for n in range(1, 31)}),
        "yyy": _lang("yyy", {1: "ab", 2: "abcdefgh"}, script="Cyrl"),
    })


# ---- parsing, no asset needed ----------------------------------------------------------------


def test_parse_declaration_keeps_paragraphs_not_headings():
    html = """<html><body><h1>Title &amp; more</h1>
    <header><h2>Preamble</h2><p>Whereas
        one,</p></header>
    <article data-number="1"><h2>Article 1</h2><p>First   sentence.</p></article>
    <article data-number="2"><h1>Article 2</h1><ol><li><p>a &lt;b&gt;</p></li><li><p>c</p></li></ol></article>
    <article data-number="3"><h2>Article 3</h2></article>
    </body></html>"""
    d = parse_declaration(html)
    assert d.title == "Title & more"
    assert d.preamble == ["Whereas one,"]
    assert d.articles == {1: ["First sentence."], 2: ["a <b>", "c"], 3: []}


def test_parse_index_reads_wrapped_values_and_quotes():
    js = """/** doc */
export const udhr = [
  {
    bcp47: 'en',
    code: 'eng',
    latitude: 53,
    longitude: -1.5,
    name: "K'iche', Central",
    ohchr:
      'https://example.org/x',
    stage: 4
  }
]"""
    (e,) = parse_index(js)
    assert e == {"bcp47": "en", "code": "eng", "latitude": 53, "longitude": -1.5, "name": "K'iche', Central",
                 "ohchr": "https://example.org/x", "stage": 4}


# ---- the real declarations -------------------------------------------------------------------


def test_loader_aligns_articles(udhr):
    assert len(udhr) == 532
    complete = udhr.complete()
    assert len(complete) == 521
    assert all(sorted(lang.articles) == list(range(1, 31)) for lang in complete)
    incomplete = {lang.code for lang in udhr.incomplete()}
    assert len(incomplete) == 11 and {"chv", "kwi", "ykg"} <= incomplete
    assert udhr["kwi"].missing_articles == (1,) and udhr["ykg"].missing_articles == (30,)
    eng = udhr["eng"]
    assert eng.articles[1].startswith("All human beings are born free and equal in dignity and rights.")
    assert eng.articles[30].startswith("Nothing in this Declaration may be interpreted")
    assert "Article" not in eng.articles[1]  # headings are not text
    assert udhr["fra"].articles[1].startswith("Tous les êtres humains naissent libres et égaux")
    assert eng.preamble.startswith("Whereas recognition of the inherent dignity")


def test_loader_metadata(udhr):
    eng = udhr["eng"]
    assert (eng.name, eng.script, eng.script_name, eng.direction) == ("English", "Latn", "Latin", "ltr")
    assert (eng.latitude, eng.longitude) == (53.0, -1.0)
    # udhr@6.0.0 has no families: load_udhr joins URIEL's when that asset is fetched
    assert eng.family == ("Indo-European" if _have("uriel-families") else None)
    assert load_udhr(families=False)["eng"].family is None
    arb = udhr["arb"]
    assert (arb.script, arb.direction) == ("Arab", "rtl")
    assert udhr["cmn_hant"].script == "Hant" and udhr["cmn_hans"].script == "Hani"
    assert udhr["jpn"].script == "Jpan" and udhr["rus"].script == "Cyrl" and udhr["hin"].script == "Deva"
    assert sum(lang.latitude is None for lang in udhr) == 10  # the package's (-75, 30) placeholders
    with pytest.raises(InvalidInput, match="unknown UDHR language code 'frx'"):
        udhr["frx"]


# ---- premium ------------------------------------------------------------------------------------


def test_hand_checked_premium_with_chars():
    t = parity_table(["text/chars"], udhr=_tiny())
    assert t.languages == ["eng", "xxx"] and t.excluded == ["yyy"]
    eng, xxx = t.row("eng", "text/chars"), t.row("xxx", "text/chars")
    assert eng.premium == 1.0 and eng.tokens == 120
    # xxx: 30 x 6 characters (30 x 7 bytes) against English's 30 x 4
    assert (xxx.tokens, xxx.characters, xxx.bytes, xxx.english_tokens) == (180, 180, 210, 120)
    assert xxx.premium == 1.5 and xxx.byte_premium == 1.75 and xxx.bytes_per_token == 210 / 180
    assert not xxx.lossy and xxx.flags == ""
    by_bytes = parity_table("text/bytes", articles=[1, 2], udhr=_tiny())
    assert by_bytes.premium("xxx", "text/bytes") == 14 / 8


def test_incomplete_language_compared_on_its_own_articles():
    t = parity_table(["text/chars"], languages=["yyy", "eng"], udhr=_tiny())
    yyy = t.row("yyy", "text/chars")
    # measured on articles 1 and 2 only, against English on those two: 10 / 8
    assert (yyy.articles, yyy.tokens, yyy.english_tokens, yyy.complete) == (2, 10, 8, False)
    assert yyy.premium == 1.25
    assert parity_table("text/chars", languages=["yyy"], articles=[2], udhr=_tiny()).premium("yyy", "text/chars") == 2.0
    assert len(parity_table("text/chars", include_incomplete=True, udhr=_tiny())) == 3


class _AsciiOnly:
    """A lossy toy tokenizer: ASCII code points, and id 0 ([UNK]) for anything else."""

    name = "test/ascii-only"
    modality = "text"
    unk_id = 0

    def encode(self, x: str) -> TokenSeq:
        ids = [ord(c) if 0 < ord(c) < 128 else 0 for c in x]
        pos = np.arange(len(ids))
        return TokenSeq(ids, SpanTable(pos, pos + 1), "text", self.name, {"lossless": True})

    def decode(self, seq) -> str:
        return "".join(chr(i) if i else "?" for i in seq.tolist())


def test_lossy_tokenization_is_flagged():
    t = parity_table([_AsciiOnly(), "text/chars"], udhr=_tiny())
    xxx = t.row("xxx", "test/ascii-only")
    assert xxx.lossy and xxx.unk_tokens == 30 and xxx.roundtrip_failures == 30
    assert xxx.flags == "unk:30; roundtrip:30/30"
    assert not t.row("eng", "test/ascii-only").lossy
    assert [r.code for r in t.filter(tokenizer="test/ascii-only").sorted("premium")] == ["eng", "xxx"]
    assert t.filter(lossy=True).languages == ["xxx"]


@needs_udhr
def test_english_premium_is_exactly_one_and_chars_premium_is_a_character_ratio(udhr):
    t = parity_table(["text/chars", "text/bytes"], languages=["eng", "fra", "cmn_hans", "arb"])
    assert len(t) == 8
    eng_chars = t.row("eng", "text/chars").characters
    for tok in t.tokenizers:
        assert t.premium("eng", tok) == 1.0
    for code in ["fra", "cmn_hans", "arb"]:
        r = t.row(code, "text/chars")
        assert r.premium == r.characters / eng_chars and not r.lossy
        assert t.row(code, "text/bytes").premium == r.bytes / t.row("eng", "text/bytes").bytes
    assert t.premium("cmn_hans", "text/chars") < 0.5 < t.premium("fra", "text/chars")


@needs_openai
def test_english_premium_with_bpe():
    t = parity_table("text/o200k_base,text/r50k_base", languages=["eng", "rus", "hin"], articles=range(1, 4))
    assert [t.premium("eng", n) for n in t.tokenizers] == [1.0, 1.0]
    # GPT-2's English-centric vocabulary makes Hindi far dearer than o200k_base does
    assert t.premium("hin", "text/r50k_base") > 2 * t.premium("hin", "text/o200k_base") > 2


# ---- filters, CSV ---------------------------------------------------------------------------------


def test_filters_by_script_and_family():
    t = parity_table("text/chars", include_incomplete=True, udhr=_tiny())
    assert t.filter(script="cyrl").languages == ["yyy"]
    assert t.filter(script=["Latn"]).languages == ["eng", "xxx"]
    with pytest.raises(InvalidInput, match="scripts .*Latn"):
        t.filter(script="Grek")
    assert t.families() == ["unknown"]  # no family source: every row says so
    with pytest.raises(InvalidInput, match="no row here has a known family.*fetch uriel-families"):
        t.filter(family="Indo-European")
    assert t.filter(family="unknown").languages == ["eng", "xxx", "yyy"]
    fam = _tiny().with_families({"eng": "Indo-European", "xxx": "Other"})
    t2 = parity_table("text/chars", udhr=fam, families="indo-european")
    assert t2.languages == ["eng"] and t2[0].family == "Indo-European"
    t3 = parity_table("text/chars", udhr=fam, include_incomplete=True)
    assert t3.families() == ["Indo-European", "Other", "unknown"]
    assert t3.filter(family="other").languages == ["xxx"]
    assert t3.filter(family=["Other", "unknown"], script="Cyrl").languages == ["yyy"]
    with pytest.raises(InvalidInput, match="families here: Indo-European, Other, unknown"):
        t3.filter(family="Uralic")
    assert parity_table("text/chars", udhr=_tiny(), scripts="Latin", include_incomplete=True).languages == ["eng", "xxx"]


def test_csv_columns_and_rows(tmp_path):
    t = parity_table(["text/chars", "text/bytes"], udhr=_tiny())
    path = t.to_csv(tmp_path / "p.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert {"code", "name", "script", "tokens", "bytes", "premium"} <= set(CSV_COLUMNS)
    assert len(rows) == len(t.languages) * len(t.tokenizers) == 4
    eng = [r for r in rows if r["code"] == "eng" and r["tokenizer"] == "text/chars"][0]
    assert (eng["premium"], eng["tokens"], eng["lossy"], eng["family"]) == ("1", "120", "false", "unknown")
    xxx = [r for r in rows if r["code"] == "xxx" and r["tokenizer"] == "text/bytes"][0]
    assert (xxx["premium"], xxx["bytes"], xxx["latitude"]) == ("1.75", "210", "1")


# ---- errors ---------------------------------------------------------------------------------------


def test_errors_name_the_valid_choices():
    with pytest.raises(UnknownTokenizer, match=r"did you mean 'text/o200k_base'.*text tokenizers: .*text/chars"):
        parity_table("text/o200k", udhr=_tiny())
    with pytest.raises(UnknownTokenizer, match="not a text tokenizer"):
        parity_table("image/flex1d-emoji64", udhr=_tiny())
    with pytest.raises(InvalidInput, match="from 1 to 30"):
        parity_table("text/chars", articles=[0, 31], udhr=_tiny())
    with pytest.raises(InvalidInput, match="unknown UDHR language code 'zzz'"):
        parity_table("text/chars", languages=["zzz"], udhr=_tiny())


def test_missing_asset_names_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKENWORKS_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(AssetMissing, match="tokenworks assets fetch udhr"):
        parity_table("text/chars")


# ---- the command ----------------------------------------------------------------------------------


@needs_udhr
def test_cli_end_to_end(tmp_path, capsys):
    out = tmp_path / "parity.csv"
    tokenizers = "text/o200k_base,text/r50k_base" if _have("bpe-openai") and _have("whisper-vocab") \
        else "text/chars,text/bytes"
    langs = ["eng", "fra", "rus", "cmn_hans", "arb", "hin"]
    assert main(["eval", "parity", "--tokenizers", tokenizers, "--languages", ",".join(langs),
                 "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "12 rows = 6 languages x 2 tokenizer(s)" in printed
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 12 and {r["code"] for r in rows} == set(langs)
    assert {"code", "name", "script", "tokens", "bytes", "premium"} <= set(rows[0])
    assert all(float(r["premium"]) == 1.0 for r in rows if r["code"] == "eng")
    assert all(int(r["tokens"]) > 0 and int(r["bytes"]) > 0 for r in rows)


@needs_udhr
def test_cli_articles_and_incomplete(tmp_path, capsys):
    out = tmp_path / "p.csv"
    assert main(["eval", "parity", "--tokenizers", "text/chars", "--languages", "eng,ykg", "--articles", "1-2,30",
                 "--out", str(out), "--quiet"]) == 0
    rows = {r["code"]: r for r in csv.DictReader(open(out, newline="", encoding="utf-8"))}
    assert rows["eng"]["articles"] == "3" and rows["ykg"]["articles"] == "2" and rows["ykg"]["complete"] == "false"


@pytest.mark.parametrize("argv,message", [
    (["eval", "parity", "--tokenizers", "text/nope", "--out", "x.csv"], "parity takes text tokenizers: "),
    (["eval", "parity", "--tokenizers", "text/chars,image/grid-emoji32", "--out", "x.csv"], "not a text tokenizer"),
    (["eval", "frobnicate"], "choose one of parity"),
    (["eval"], "needs a subcommand: parity"),
])
def test_cli_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("argv,message", [
    (["eval", "parity", "--tokenizers", "text/chars", "--out", "x.csv", "--articles", "1-x"], "--articles takes"),
    (["eval", "parity", "--out", "x.csv"], "--tokenizers"),
])
def test_cli_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as e:  # argparse: usage errors exit 2
        main(argv)
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_cli_missing_asset(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TOKENWORKS_CACHE", str(tmp_path / "empty-cache"))
    assert main(["eval", "parity", "--tokenizers", "text/chars", "--out", str(tmp_path / "p.csv")]) == 1
    err = capsys.readouterr().err
    assert "tokenworks assets fetch udhr" in err and "Traceback" not in err


# ---- language families (tokenworks.text.families) --------------------------------------------------


def test_families_from_arrays_root_first():
    from tokenworks.text.families import families_from_arrays

    feats = np.array(["F_Big", "F_Sub", "F_Leaf", "F_Solo", "F_SoloSub"])
    langs = np.array(["aaa", "bbb", "ccc", "ddd", "iso"])
    data = np.array([[1, 1, 1, 0, 0],   # aaa: Big > Sub > Leaf
                     [1, 1, 0, 0, 0],   # bbb: Big > Sub
                     [1, 0, 0, 0, 0],   # ccc: Big
                     [0, 0, 0, 1, 1],   # ddd: Solo and SoloSub hold the same one language: listed first wins
                     [0, 0, 0, 0, 0]],  # iso: no node (an isolate)
                    dtype=np.float32)[:, :, None]  # (L, F, 1) as in the npz
    t = families_from_arrays(langs, feats, data)
    assert t.lineage("aaa") == ("Big", "Sub", "Leaf") and t.family("bbb") == "Big"
    assert t.lineage("ddd") == ("Solo", "SoloSub")
    assert t.family("iso") is None and t.lineage("zzz") == ()
    assert t.families() == {"Big": 3, "Solo": 1} and (t.languages, t.nodes) == (5, 5)
    with pytest.raises(InvalidInput, match=r"shape \(5, 4\); expected \(5, 5\)"):
        families_from_arrays(langs, feats, data[:, :4, 0])


def test_family_join_tries_iso_code_prefix_and_stand_ins():
    from tokenworks.text.families import UNKNOWN, FamilyTable, family_of, udhr_families

    t = FamilyTable({"deu": ("Indo-European", "Germanic"), "est": ("Uralic",), "aka": ("Atlantic-Congo",)},
                    languages=3, nodes=3)
    udhr = UDHR({
        "deu_1996": _lang("deu_1996", {1: "x"}),  # iso6393 "deu_1996" is unknown; the code's prefix is not
        "ekk": _lang("ekk", {1: "x"}),            # Standard Estonian: through the macrolanguage est
        "aka_fante": _lang("aka_fante", {1: "x"}),
        "eus": _lang("eus", {1: "x"}),
    })
    assert family_of(udhr["deu_1996"], t) == "Indo-European"
    assert udhr_families(udhr, t) == {"deu_1996": "Indo-European", "ekk": "Uralic", "aka_fante": "Atlantic-Congo",
                                      "eus": UNKNOWN}


def test_families_from_the_uriel_asset():
    from tokenworks.text.families import load_families

    if not _have("uriel-families"):
        pytest.skip("asset uriel-families not fetched (tokenworks assets fetch uriel-families)")
    fam = load_families()
    assert (fam.languages, fam.nodes) == (7970, 3718)
    assert {c: fam.family(c) for c in ("deu", "fin", "cmn", "swh", "jpn", "tur")} == {
        "deu": "Indo-European", "fin": "Uralic", "cmn": "Sino-Tibetan", "swh": "Atlantic-Congo",
        "jpn": "Japonic", "tur": "Turkic"}
    assert fam.lineage("fin")[:2] == ("Uralic", "Finnic")
    assert fam.family("eus") is None  # Basque, an isolate: URIEL has no node for it
    assert load_families() is fam  # read once per process


def test_udhr_carries_families_when_the_asset_is_there(udhr):
    if not _have("uriel-families"):
        pytest.skip("asset uriel-families not fetched (tokenworks assets fetch uriel-families)")
    got = {c: udhr[c].family for c in ("eng", "deu_1996", "fin", "cmn_hans", "swh", "est", "nob", "arb", "eus")}
    assert got == {"eng": "Indo-European", "deu_1996": "Indo-European", "fin": "Uralic", "cmn_hans": "Sino-Tibetan",
                   "swh": "Atlantic-Congo", "est": "Uralic", "nob": "Indo-European", "arb": "Afro-Asiatic",
                   "eus": "unknown"}
    counts = udhr.families()
    assert next(iter(counts)) == "Indo-European" and counts["unknown"] < 25
    t = parity_table("text/bytes", languages="eng,fin,swh,eus", udhr=udhr, families="uralic,unknown")
    assert t.languages == ["fin", "eus"] and [r.family for r in t] == ["Uralic", "unknown"]


def test_without_the_families_asset_udhr_loads_with_no_families(udhr, monkeypatch):
    import tokenworks.assets as assets

    real = assets.asset_path

    def no_families(name, member=None):
        if name == "uriel-families":
            raise AssetMissing("asset uriel-families is not here; run `tokenworks assets fetch uriel-families`")
        return real(name, member)

    monkeypatch.setattr(assets, "asset_path", no_families)
    bare = load_udhr()
    assert bare["eng"].family is None and bare.families() == {"unknown": len(bare)}
    t = parity_table("text/bytes", languages="eng,fin", udhr=bare)
    assert [r.family for r in t] == ["unknown", "unknown"]
    with pytest.raises(InvalidInput, match="fetch uriel-families"):
        t.filter(family="Uralic")


@needs_udhr
def test_cli_families_filter(tmp_path):
    out = tmp_path / "f.csv"
    assert main(["eval", "parity", "--tokenizers", "text/chars", "--families", "Uralic", "--articles", "1",
                 "--out", str(out), "--quiet"]) == 0
    rows = list(csv.DictReader(open(out, newline="", encoding="utf-8")))
    codes = {r["code"] for r in rows}
    assert {"fin", "hun"} <= codes and "deu" not in codes
    assert all(r["family"] == "Uralic" for r in rows if r["code"] != "eng")
