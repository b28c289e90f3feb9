"""Docs are tested: every CLI command, setting and public view is documented."""

from __future__ import annotations

import re

from tests.conftest import REPO
from tierlens.cli import app
from tierlens.settings import Settings

README = (REPO / "README.md").read_text()
VIEWS = (REPO / "docs" / "views.md").read_text()
SETTINGS = (REPO / "docs" / "settings.md").read_text()


def _commands() -> list[str]:
    import typer.main

    return sorted(typer.main.get_command(app).commands)


def test_every_cli_command_is_in_the_readme():
    missing = [c for c in _commands() if f"tierlens {c}" not in README]
    assert not missing, f"undocumented commands: {missing}"


def test_every_setting_is_documented():
    missing = [f for f in Settings.model_fields if f"`{f}`" not in SETTINGS]
    assert not missing, f"undocumented settings: {missing}"


def test_every_public_view_is_documented_with_its_grain():
    from tierlens.store.db import sql_file

    views = re.findall(r"CREATE OR REPLACE VIEW (\w+)", sql_file("views.sql"))
    assert {"conversations", "turns", "conversation_scores", "compliance_flags",
            "kpi_monthly"} <= set(views)
    for v in views:
        assert f"`{v}`" in VIEWS, f"view {v} not documented in docs/views.md"
    for view in views:
        assert re.search(rf"-- grain: [^\n]+\n(--[^\n]*\n)*CREATE OR REPLACE VIEW {view}\b",
                         sql_file("views.sql")), f"view {view} lacks a '-- grain:' comment"
    # every table in the migrations carries its grain comment
    from tierlens.store.db import migrations

    for _, name, sql in migrations():
        for table in re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", sql):
            assert re.search(rf"-- grain: [^\n]+\n(--[^\n]*\n)*CREATE TABLE (IF NOT EXISTS )?{table}\b",
                             sql), f"{name}: table {table} lacks a '-- grain:' comment"


def test_the_two_commands_are_in_the_readme():
    assert "make demo" in README and "make test" in README
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci
