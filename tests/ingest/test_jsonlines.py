"""The JSON Lines reader's per-line checks and file layouts (tierlens.ingest.jsonlines)."""

from __future__ import annotations

import pytest

from tierlens.errors import InputError
from tierlens.ingest.jsonlines import _parse_line, layout


@pytest.mark.parametrize("raw,field", [
    (b'{"a": 1, "a": 2}', "a"),
    (b'{"": 1, "": 2}', ""),
    (b'{"t": [{"speaker" : "bot", "speaker" : "agent"}]}', "speaker"),
    (b'{"m": {"x": {"y": 1, "y": 1}}}', "y"),
])
def test_duplicate_keys_are_ambiguous(raw, field):
    rec = _parse_line("f.jsonl", 3, raw)
    assert rec.payload is None and rec.error.reason == "duplicate_key"
    assert rec.error.field == field and "1" not in rec.error.message


@pytest.mark.parametrize("raw", [
    b'{"text": "he said \\"a\\": \\"b\\""}',  # an escaped quote before a colon, in a value
    b'{"a" : 1, "b" : {"c" : 2}}',  # spaces before colons
    b'{"a": "\\u0022: x", "b": 1}',
])
def test_lookalikes_are_not_duplicates(raw):
    rec = _parse_line("f.jsonl", 1, raw)
    assert rec.error is None and rec.payload


@pytest.mark.parametrize("head,kind", [
    (b'{"a": 1}\n{"a": 2}\n', "lines"),
    (b'{"a": 1}\r{"a": 2}\r', "cr"),
    (b'{\n  "a": 1\n}\n', "document"),
    (b'[\n  {"a": 1}\n]\n', "document"),
    ("{}\n".encode("utf-16"), "utf16"),
    (b'\xef\xbb\xbf{"a": 1}\n', "lines"),
])
def test_layout_is_decided_once_from_the_head(tmp_path, head, kind):
    assert layout(tmp_path / "x.jsonl", head) == kind


def test_nul_bytes_without_a_bom_reject_the_file(tmp_path):
    with pytest.raises(InputError, match="NUL bytes"):
        layout(tmp_path / "x.jsonl", "{}\n".encode("utf-16-le"))
