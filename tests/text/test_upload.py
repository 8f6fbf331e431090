"""tokenworks.text.upload: an uploaded text file read as a corpus (encodings, limits, slices);
the Metrics tab shows these checks as messages (tests/app/test_metrics_tab.py)."""
from __future__ import annotations

import codecs

import pytest

from tokenworks.errors import InvalidInput
from tokenworks.text.upload import check_slices, read_corpus_upload, split_slices

# ---- the library checks ------------------------------------------------------------------


def test_unknown_encoding_names_accepted_encodings_and_offset(tmp_path):
    p = tmp_path / "latin1.txt"
    p.write_bytes("caf\u00e9 cr\u00e8me\n".encode("latin-1"))
    with pytest.raises(InvalidInput) as e:
        read_corpus_upload(p)
    msg = str(e.value)
    assert "latin1.txt" in msg and "byte offset 3" in msg and "UTF-8" in msg and "UTF-16" in msg and "BOM" in msg


def test_utf16_without_bom_is_refused(tmp_path):
    p = tmp_path / "u16.txt"
    p.write_bytes("hello world".encode("utf-16-le"))
    with pytest.raises(InvalidInput, match="without a byte-order mark"):
        read_corpus_upload(p)


@pytest.mark.parametrize("bom,codec,label", [(codecs.BOM_UTF8, "utf-8", "UTF-8 (BOM)"),
                                             (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16-LE (BOM)"),
                                             (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16-BE (BOM)")])
def test_accepted_encodings_are_detected(tmp_path, bom, codec, label):
    p = tmp_path / "ok.txt"
    p.write_bytes(bom + "héllo 世界".encode(codec))
    up = read_corpus_upload(p)
    assert up.text == "héllo 世界" and up.encoding == label
    p.write_bytes("plain".encode())
    assert read_corpus_upload(p).encoding == "UTF-8"


@pytest.mark.parametrize("content", [b"", b"  \n\t\n"])
def test_empty_corpus(tmp_path, content):
    p = tmp_path / "empty.txt"
    p.write_bytes(content)
    with pytest.raises(InvalidInput, match="empty"):
        read_corpus_upload(p)


def test_50mb_upload_refused_from_its_size(tmp_path, monkeypatch):
    p = tmp_path / "big.txt"
    with open(p, "wb") as f:  # sparse: 50 MiB + 1 without writing them
        f.truncate(50 * 2**20 + 1)
    opened = []
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a) or pytest.fail("read before size check"))
    with pytest.raises(InvalidInput) as e:
        read_corpus_upload(p)
    assert "50.0 MB" in str(e.value) and "52,428,800 bytes" in str(e.value) and not opened


def test_slice_with_zero_text(tmp_path):
    with pytest.raises(InvalidInput, match="'Empty'"):
        split_slices("English: hello\nEmpty:   \n", "lines")
    with pytest.raises(InvalidInput, match="no text"):
        check_slices({"a": ["x"], "b": ["", "  "]})
    assert split_slices("English: hello\n\n中文：你好", "lines") == {"English": ["hello"], "中文": ["你好"]}


