"""Compare mode and merge trees of the Text tab: the library logic on hand-checked examples and the
view it draws (the tab's handlers: tests/app/test_text_compare_tab.py)."""
from __future__ import annotations

import re

import pytest

import tokenworks as tw
from tokenworks.text.compare import MAX_COMPARE, compare, compare_seqs, merge_history
from tokenworks.viz.text import compare_html, merge_tree_html, token_colour, tokens_html


def test_chars_and_bytes_on_a_e_acute():
    # "aé" is 3 bytes: 61 | C3 A9. chars cuts at byte 1; bytes cuts at 1 and inside é at 2
    cmp = compare("aé", ["text/chars", "text/bytes"])
    assert cmp.n_bytes == 3 and cmp.shared.tolist() == [1]
    chars, bytes_ = cmp["text/chars"], cmp["text/bytes"]
    assert chars.boundaries.tolist() == [1] and chars.differing.tolist() == []
    assert bytes_.boundaries.tolist() == [1, 2] and bytes_.differing.tolist() == [2]
    # the differing boundary is the end of token 1 (0xC3) and the start of token 2 (0xA9)
    assert bytes_.diff_end.tolist() == [False, True, False]
    assert bytes_.diff_start.tolist() == [False, False, True]
    assert not chars.diff_start.any() and not chars.diff_end.any()
    assert cmp.spread.min == 2 and cmp.spread.max == 3 and cmp.spread.ratio == pytest.approx(1.5)
    assert (cmp.spread.fewest, cmp.spread.most) == ("text/chars", "text/bytes")
    assert cmp.n_differing == 1


def test_three_way_boundaries_and_spread():
    # "ab cd" with cl100k_base: "ab" | " cd" -> cuts at 2; chars cuts everywhere (1,2,3,4)
    cmp = compare("ab cd", ["text/cl100k_base", "text/chars", "text/bytes"])
    bpe = cmp["text/cl100k_base"]
    assert bpe.seq.tolist() == tw.load_shared("text/cl100k_base").encode("ab cd").tolist()
    assert cmp.shared.tolist() == bpe.boundaries.tolist()  # ASCII: chars and bytes cut at every byte
    assert cmp["text/chars"].differing.tolist() == sorted(set(range(1, 5)) - set(bpe.boundaries.tolist()))
    assert cmp.spread.ratio == pytest.approx(5 / len(bpe.seq))
    summary = cmp.summary()
    assert [t["n_tokens"] for t in summary["tokenizers"]] == [len(bpe.seq), 5, 5]
    assert summary["spread"]["max"] == 5 and summary["n_bytes"] == 5


def test_gaps_count_both_ends():
    # a tokenizer that drops text (BERT drops spaces): "a b" -> a(0-1), b(2-3): cuts at 1 and 2, like bytes
    from tokenworks.core import Span, TokenSeq

    gappy = TokenSeq([1, 2], [Span(0, 1, 0, 1), Span(2, 3, 2, 3)], "text", "gappy")
    whole = TokenSeq([7], [Span(0, 3, 0, 3)], "text", "whole")
    cmp = compare_seqs([gappy, whole], "a b")
    assert cmp["gappy"].boundaries.tolist() == [1, 2] and cmp["whole"].boundaries.tolist() == []
    assert cmp["gappy"].differing.tolist() == [1, 2] and cmp.shared.size == 0
    body = compare_html(cmp).split("</style>", 1)[1]
    assert body.count("tw-diff tw-diff-r") == 1 and body.count("tw-diff tw-diff-l") == 1  # a|gap|b: both edges


def test_identical_tokenizers_differ_nowhere():
    cmp = compare("héllo wörld", ["text/cl100k_base", "text/bpe-cl100k"])
    assert all(s.differing.size == 0 for s in cmp.segmentations) and cmp.spread.ratio == 1.0


def test_empty_text_compares():
    cmp = compare("", ["text/chars", "text/bytes"])
    assert cmp.spread.min == 0 and cmp.spread.ratio is None and cmp.shared.size == 0
    html = compare_html(cmp)
    assert "no tokens" in html and "tw-diff" not in html.split("</style>", 1)[1]


@pytest.mark.parametrize("n", [1, MAX_COMPARE + 1])
def test_library_refuses_too_few_or_too_many(n):
    with pytest.raises(tw.InvalidInput, match="2 to 4 tokenizers"):
        compare("x", ["text/chars"] * n)


def test_compare_html_marks_differing_boundaries():
    html = compare_html(compare("aé", ["text/chars", "text/bytes"]))
    body = html.split("</style>", 1)[1]
    assert body.count('class="tw-tok') == 2 + 3
    assert len(re.findall(r"class=\"[^\"]*tw-diff[ \"]", body)) == 2  # the two byte chips on either side of the cut inside é
    assert body.count("tw-diff-l") == 1 and "tw-diff-r" not in body  # one red line per cut: left of 0xA9
    assert "data-ref='text/bytes'" in body and "max/min 1.50×" in body
    assert "grid-template-columns: repeat(2" in body


def test_compare_html_cuts_every_column_at_the_same_text():
    text = "héllo " * 400  # 2,800 bytes
    html = compare_html(compare(text, ["text/bytes", "text/chars"]), max_tokens=100)
    cols = html.split("class='tw-col'")[1:]
    assert cols[0].count('class="tw-tok') == 100  # bytes: 100 tokens ...
    assert cols[1].count('class="tw-tok') == 86  # ... cover 86 characters ("héllo " is 7 bytes, 6 chars)
    assert "showing the first 100" in cols[0]


def test_colour_is_a_function_of_the_id():
    a = tokens_html(tw.load_shared("text/chars").encode("aXa"), "aXa")
    assert a.count(f"background:{token_colour(97)}") == 2 and token_colour(97) != token_colour(98)


def test_partial_tokens_name_their_character():
    html = tokens_html(tw.load_shared("text/bytes").encode("é"), "é")
    assert "part of a character" in html and "U+00E9" in html and "C3 A9" in html


def test_merge_history_of_tiktoken_and_bytebpe():
    tok = tw.load_shared("text/cl100k_base")
    ids = tok.encode(" tokenization").tolist()
    node = merge_history(tok, ids[0])
    assert node.data == tok.token_bytes(ids[0])
    assert b"".join(leaf.data for leaf in node.leaves()) == node.data and all(len(x.data) == 1 for x in node.leaves())
    assert merge_history(tw.load_shared("text/bpe-cl100k"), ids[0]).to_dict() == node.to_dict()
    assert merge_history(tw.load_shared("text/chars"), 97) is None
    html = merge_tree_html(node)
    assert html.count("class='tw-mnode'") == 2 * len(node.leaves()) - 1
    assert f"built by {len(node.leaves()) - 1} merges" in html


@pytest.mark.parametrize("name", ["text/llama3", "text/qwen3"])
def test_merge_history_of_hf_byte_level_bpe(name):
    try:
        tok = tw.load_shared(name)
    except tw.AssetMissing as e:
        pytest.skip(str(e))
    for tid in tok.encode(" tokenization café 数字").tolist():
        node = merge_history(tok, tid)
        assert node.id == tid and len(node.leaves()) == len(node.data)  # down to single bytes
        assert b"".join(leaf.data for leaf in node.leaves()) == node.data
    # Llama 3's vocabulary extends cl100k_base: the same token is built the same way
    if name == "text/llama3":
        cl = tw.load_shared("text/cl100k_base")
        tid = cl.encode(" tokens").tolist()[0]
        assert merge_history(tok, tid).to_dict() == merge_history(cl, tid).to_dict()
