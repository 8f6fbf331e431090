"""Under-trained tokens in SmolLM2-135M (tokenworks.lm.undertrained, Land & Bartolo 2024): the
indicators over the whole vocabulary, the reference set ranking at the top, verification by
prompting (a control such as " the" is not flagged), the corpus finder, and reachability against
the workbench's unreachable-token metric. One verification run (12 candidates) is shared."""
from __future__ import annotations

import numpy as np
import pytest

from tokenworks.errors import InvalidInput
from tokenworks.lm import undertrained as ut
from tokenworks.lm import undertrained_verify as uv

N = 12  # candidates verified here (what TOKENWORKS_FAST=1 verifies: the app's tests share the run)


@pytest.fixture(scope="module")
def report(smollm2):
    return ut.analyze(smollm2, n_verify=N)


# ---- without the model -------------------------------------------------------------------------

@pytest.mark.parametrize("data, occurs", [
    (b"\x80", True),  # a continuation byte: the tail of some character
    (b"\xe2\x80", True),  # the start of a 3-byte character
    (b"\x9f\x98\x80", True),  # the end of an emoji
    (b"\xc0", False),  # never in UTF-8 (an overlong lead)
    (b"\xff", False),
    (b"\xed\xa0", False),  # a surrogate's start
    (b"\x80\x80\x80\x80", False),  # four continuation bytes follow no lead
])
def test_which_byte_strings_occur_inside_utf8(data, occurs):
    assert ut._can_occur(data) is occurs


def test_chatml_without_a_template_and_the_sandbox():
    msgs = [{"role": "user", "content": "hi"}]
    assert uv.render_chat(None, msgs) == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    from tokenworks.lm.chat import ChatTemplate

    evil = ChatTemplate(source="{{ messages.__class__.__mro__[1].__subclasses__() }}", bos_token="", eos_token="",
                        origin="a test")
    with pytest.raises(InvalidInput, match="unsafe"):  # a template cannot reach Python's internals
        uv.render_chat(evil, msgs)


# ---- SmolLM2 ----------------------------------------------------------------------------------

def test_indicators_over_the_whole_vocabulary(report, smollm2):
    s = report.scan
    V = len(smollm2.vocab.token_bytes)
    assert V == 49_152
    assert s.indicator.shape == s.norm.shape == s.rank.shape == (V,)
    assert np.array_equal(np.sort(s.rank), np.arange(V)) and np.array_equal(s.rank[s.order], np.arange(V))
    assert np.all(np.diff(s.indicator[s.order]) <= 0)  # rank 0: most like the reference
    assert np.all(np.abs(s.indicator) <= 1 + 1e-9)
    # the reference: unused control tokens, never the document start or the chat template's tokens
    ref = s.reference.ids.tolist()
    assert len(ref) >= 5 and all(smollm2.vocab.special[i] for i in ref)
    assert smollm2.bos_id not in ref and not {1, 2} & set(ref)  # <|im_start|>, <|im_end|>
    assert set(ref) | set(s.reference.dropped) == set(s.reference.prior)
    assert s.rank[ref].max() < V // 100  # every reference token ranks in the top 1%


def test_verification_flags_candidates_and_not_the_controls(report, smollm2):
    cand, ctrl = report.candidates, report.controls
    assert len(cand.ids) == N and cand.prompt_prob.shape == (2, N)
    assert np.allclose(cand.max_prob, cand.prompt_prob.max(axis=0))
    assert cand.verified[:5].all()  # the five closest to the unused rows are never said back
    the = smollm2.vocab.encode(" the")[0]
    verified, p = ctrl.of(the)
    assert not verified and p > 0.05
    assert not ctrl.verified.any(), [report.labels[i] for i in ctrl.ids[ctrl.verified]]
    rows = report.table()
    assert [r.rank for r in rows] == sorted(r.rank for r in rows) and all(r.role == "candidate" for r in rows)
    assert {r.role for r in report.reference_rows()} == {"reference"}


def test_corpus_finder_finds_a_planted_token(report, smollm2):
    tid = int(report.flagged[0])
    word = smollm2.vocab.token_bytes[tid].decode("utf-8")
    before = "Some ordinary prose, then the log line:"
    text = before + word + " and more prose after it."
    hits = ut.find_in_corpus(smollm2, report, text, context=10)
    assert hits.counts == {tid: 1}
    (o,) = hits.occurrences
    assert (o.token_id, o.start, o.end) == (tid, len(before), len(before) + len(word))
    assert o.why == "verified under-trained" and o.left == before[-10:] and o.right == " and more "
    hits = ut.find_in_corpus(smollm2, report, "plain text <jupyter_text> more")  # a control token's string
    assert [o.why for o in hits.occurrences] == ["reference (unused control token)"]
    for bad in ("", "   \n", None):
        with pytest.raises(InvalidInput, match="empty|text"):
            ut.find_in_corpus(smollm2, report, bad)


def test_reachability_against_the_workbench_metric(report, smollm2):
    from tokenworks.metrics.text import unreachable_tokens

    r, rel = report.scan.reach, report.relation()
    wb = unreachable_tokens(smollm2.tokenizer, max_scan=None)
    assert (rel.workbench_unreachable, rel.workbench_probed) == (wb.count, wb.probed)
    assert r.partial_probed == int(r.partial_utf8.sum()) > 0  # the tokens that metric cannot probe
    assert rel.verified == len(report.flagged) == rel.verified_reachable + rel.verified_unreachable
    assert not r.reachable[smollm2.vocab.special].any()
    for i in report.flagged.tolist():  # reachable: its own text encodes to it
        data = smollm2.vocab.token_bytes[i]
        if r.reachable[i] and not r.partial_utf8[i]:
            assert smollm2.vocab.encode(data.decode("utf-8")) == [i]


def test_prompts_follow_the_chat_template(smollm2):
    prompts, where = uv.repeat_prompts(smollm2)
    assert "tokenizer.chat_template" in where
    repeat, shots = prompts
    assert repeat.text.endswith("<|im_start|>user\nPlease repeat the following string exactly: «{token}»"
                                "<|im_end|>\n<|im_start|>assistant\n«")
    assert shots.text.count("«Mississippi»") == 2 and shots.text.endswith("<|im_start|>assistant\n")
    assert repeat.before[0] == 1  # <|im_start|>, read as the control token
    with pytest.raises(InvalidInput, match="0..49151"):
        uv.verify(smollm2, [49_152])
