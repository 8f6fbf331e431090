"""The Transfer tab's handlers (app/transfer_tab.py): messages instead of tracebacks (a lossy or
unknown tokenizer, an unknown method, no domain, a missing model asset, a bad checkpoint name),
and with SmolLM2 the pre-flight table, bits per byte per domain with the chart, one token's
breakdown, the checkpoint, and the link (the library: tests/lm/test_transfer_inspect.py)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("gradio")


def test_handler_messages_not_tracebacks(tmp_path, monkeypatch):
    from app import transfer_tab as tab

    frame, msg = tab.on_preflight("text/cl100k_base", "wechsel")
    assert frame.empty and "method must be one of zero, mean, random, fvt, omp, tokenadapt" in msg
    frame, msg = tab.on_preflight("", "fvt")
    assert frame.empty and "choose a target tokenizer" in msg
    frame, fig, msg, examples = tab.transplant_and_score("text/cl100k_base", "fvt", [], 1200)
    assert frame.empty and fig is None and examples == [] and "choose one or more domains" in msg
    frame, fig, msg, _ = tab.transplant_and_score("text/cl100k_base", "fvt", ["english"], 10**6)
    assert frame.empty and "100 to 4,000" in msg
    assert "checkpoint" in tab.on_save("text/cl100k_base", "fvt", "  ")
    assert "not available" in tab.on_finetune("text/cl100k_base", "fvt") or tab.finetune_available()

    monkeypatch.setenv("TOKENWORKS_CACHE", str(tmp_path / "no-assets"))  # the model's asset is not there
    frame, msg = tab.on_preflight("text/cl100k_base", "fvt")
    assert frame.empty and "tokenworks assets fetch smollm2-135m" in msg and "Traceback" not in msg
    frame, msg = tab.on_token("text/cl100k_base", "fvt", "␣quarterback")
    assert frame.empty and "tokenworks assets fetch smollm2-135m" in msg


@pytest.mark.usefixtures("smollm2")
def test_lossy_and_unknown_tokenizers_get_the_reason():
    from app import transfer_tab as tab

    frame, msg = tab.on_preflight("text/bert-base-uncased", "fvt")
    assert frame.empty and "not a byte-level vocabulary (WordPiece)" in msg and "no exact bits per byte" in msg
    frame, _, msg, _ = tab.transplant_and_score("text/no-such", "fvt", ["english"], 300)
    assert frame.empty and "unknown tokenizer" in msg and "Traceback" not in msg


@pytest.mark.usefixtures("smollm2")
def test_preflight_score_token_and_save(runs_dir, monkeypatch):
    from app import transfer_tab as tab
    from tokenworks.lm import transfer_inspect as ti

    ti._CACHE.clear()
    frame, msg = tab.on_preflight("text/cl100k_base", "fvt")
    assert list(frame.columns) == tab.PREFLIGHT_COLUMNS and "no weights were built or written" in msg
    items = frame["item"].tolist()
    for item in ("vocabulary", "held-out bytes in new tokens", "ids out of range", "bytes no base token holds",
                 "special <|endoftext|>", "number 1,000,000"):
        assert item in items
    assert not ti.cached_keys() and not any(runs_dir.iterdir())

    frame, fig, msg, examples = tab.transplant_and_score("text/cl100k_base", "fvt", ["english", "udhr-fra"], 300)
    assert frame["domain"].tolist() == ["English prose (held-out)", "UDHR, French"]
    assert (frame["ratio"] > 1).all() and "zero-shot" in msg and examples
    assert [b.name for b in fig.data][1] == "text/cl100k_base, fvt (zero-shot)"
    assert list(fig.data[1].y) == pytest.approx(frame["bits/byte transplanted"].tolist(), abs=1e-4)
    _, _, again, _ = tab.transplant_and_score("text/cl100k_base", "fvt", ["english"], 300)
    assert "reused from this process's cache" in again

    frame, msg = tab.on_token("text/cl100k_base", "fvt", "␣quarterback")
    assert set(frame["role"]) == {"piece", "nearest (cosine)"} and "**new** token" in msg
    frame, msg = tab.on_token("text/cl100k_base", "fvt", "quarterback keeper")
    assert frame.empty and "is not one token" in msg

    msg = tab.on_save("text/cl100k_base", "fvt", "tab-cl100k-fvt")
    assert str(runs_dir / "lm" / "tab-cl100k-fvt") in msg and 'tw.load_lm("lm/tab-cl100k-fvt")' in msg
    assert "checkpoint name" in tab.on_save("text/cl100k_base", "fvt", "a/../b")
    ti._CACHE.clear()


def test_link_round_trip():
    from app import transfer_tab as tab

    q = tab.link("text/o200k_base", "omp", ["python", "udhr-hin"])
    assert q == "tab=transfer&tokenizer=text/o200k_base&method=omp&domains=python,udhr-hin"
    request = SimpleNamespace(query_params={"tab": "transfer", "tokenizer": "text/o200k_base", "method": "nope",
                                            "domains": "python,klingon"})
    tok, method, domains, note, query, _ = tab.restore(None, None, None, request)
    assert (tok, method, domains) == ("text/o200k_base", "fvt", ["python"])
    assert "Ignored method 'nope'" in note and "'klingon'" in note
    assert query == "tab=transfer&tokenizer=text/o200k_base&method=fvt&domains=python"
