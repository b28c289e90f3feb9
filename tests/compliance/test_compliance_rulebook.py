"""Rulebook loading and validation: good files load, bad ones name file, rule, line and fix."""

from __future__ import annotations

import textwrap

import pytest

from tierlens.errors import ConfigError
from tierlens.score.rules import KINDS, load_rulebook, parse_rulebook, phrase_regex

GOOD = textwrap.dedent("""\
    rulebook_version: "t-1"
    rules:
      - id: no_guarantee
        version: 1
        kind: phrase
        severity: major
        speakers: [agent]
        description: No guaranteed outcomes please.
        phrases: ["I guarantee"]
      - id: bad_one
        version: "1"
        kind: regex
        severity: minor
        speakers: [agent]
        description: Something with a regex in it.
        patterns: ['\\bfoo\\b']
    """)


def _bad(text: str, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_rulebook(path)
    return str(info.value), str(path)


def test_default_rulebook_loads_and_covers_every_kind():
    book = load_rulebook()
    kinds = {r.kind for r in book.rules}
    assert kinds >= set(KINDS) - {"phrase"}  # the default uses `regex` for phrase-like rules
    assert book.rulebook_version and book.content_hash
    for r in book.rules:
        assert r.id and r.version and r.severity in ("critical", "major", "minor")
        assert r.speakers and len(r.description) >= 10
    abcd = [r for r in book.rules if "ABCD" in r.description]
    assert len(abcd) >= 2, "ABCD-derived rules must cite their subflow"


def test_good_rulebook_parses_numbers_as_strings():
    book = parse_rulebook(GOOD, "mem.yaml")
    assert book.rules[0].version == "1"
    assert book.rule("no_guarantee").kind == "phrase"


def test_lookbehind_regex_names_file_rule_line_and_fix(tmp_path):
    msg, path = _bad(GOOD.replace("'\\bfoo\\b'", "'(?<!no )foo'"), tmp_path)
    assert path in msg and "'bad_one'" in msg and "patterns" in msg
    assert ":16:" in msg  # the line of the patterns field
    assert "look-around" in msg and "Fix:" in msg


def test_unknown_kind(tmp_path):
    msg, _ = _bad(GOOD.replace("kind: regex", "kind: regexp"), tmp_path)
    assert "'bad_one'" in msg and "kind" in msg and "semantic" in msg and "Fix:" in msg


def test_bad_severity_and_missing_field(tmp_path):
    msg, _ = _bad(GOOD.replace("severity: minor", "severity: high"), tmp_path)
    assert "'bad_one'" in msg and "severity" in msg and ":13:" in msg
    msg, _ = _bad(GOOD.replace("    description: Something with a regex in it.\n", ""),
                  tmp_path)
    assert "'bad_one'" in msg and "description" in msg and "add the field" in msg


def test_misspelled_field_is_rejected(tmp_path):
    msg, _ = _bad(GOOD.replace("phrases:", "phrase_list:"), tmp_path)
    assert "'no_guarantee'" in msg and "phrase_list" in msg and "spelling" in msg


def test_duplicate_ids_and_unknown_suppressor(tmp_path):
    msg, _ = _bad(GOOD.replace("id: bad_one", "id: no_guarantee"), tmp_path)
    assert "duplicate rule id 'no_guarantee'" in msg
    msg, _ = _bad(GOOD.replace("kind: regex", "kind: regex\n    suppressed_by: [nope]"),
                  tmp_path)
    assert "nope" in msg


def test_semantic_rule_needs_examples_and_threshold(tmp_path):
    text = GOOD + (
        "  - id: sem\n"
        "    version: '1'\n"
        "    kind: semantic\n"
        "    severity: minor\n"
        "    speakers: [agent]\n"
        "    description: Semantic rule without enough examples.\n"
        "    threshold: 1.5\n"
        "    examples: [a, b]\n")
    msg, _ = _bad(text, tmp_path)
    assert "'sem'" in msg and "threshold" in msg and "examples" in msg


def test_yaml_syntax_error_and_missing_file(tmp_path):
    msg, path = _bad("rulebook_version: [unclosed\n", tmp_path)
    assert path in msg and "invalid YAML" in msg
    with pytest.raises(ConfigError, match="can't read"):
        load_rulebook(tmp_path / "nope.yaml")


def test_phrase_regex_escapes_and_bounds():
    import polars as pl

    rx = "(?i)" + phrase_regex("100% sure (really)")
    s = pl.Series(["I'm 100%   sure (really)", "100% surely"])
    assert s.str.contains(rx).to_list() == [True, False]
