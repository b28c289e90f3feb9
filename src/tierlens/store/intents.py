"""A warehouse's own intent taxonomies (``tierlens train-intents``, ``tierlens intents``).

A trained taxonomy is an intent head (see :mod:`tierlens.score.heads`) stored IN the
warehouse, in ``intent_taxonomies`` (one row per name), so it travels with the warehouse and
never lands in the checkout's ``models/``. ``warehouse_choices`` holds which one is active
(``intent_taxonomy``; NULL or no row: the bundled 97-intent default). Scoring reads the
active head's files from here (:func:`active_intent_files`; the model-score stage builds the
head: :func:`tierlens.stages.model_scores.intent_head`), so ``score``, ``run``, ``rescore``
and the flows all use it; its head version enters ``model_version``, so switching re-scores. A
taxonomy may carry its own routing policy (:func:`routing_policy`), which derive uses and
publishes (table ``routing_policy``) for the dashboard.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from tierlens.config import RoutingPolicy, load_routing_policy
from tierlens.errors import InputError
from tierlens.store.db import queries

CHOICE = "intent_taxonomy"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _q(name: str) -> str:
    return queries("intents.sql")[name]


def check_name(name: str) -> str:
    """A taxonomy name: letters, digits, ``_ . -``; at most 64 characters; not 'default'."""
    if not _NAME.match(name or "") or name == "default":
        raise InputError(f"intent taxonomy name {name!r}: use letters, digits, _ . - (at most "
                         "64 characters, not 'default'), e.g. --name my_intents")
    return name


def save_taxonomy(con: duckdb.DuckDBPyConnection, name: str, head_json: Path,
                  report: dict, policy: RoutingPolicy | None = None) -> None:
    """Store the head written at ``head_json`` (+ its ``.npz``) as taxonomy ``name``
    (replacing one of that name), with its training ``report`` (``n_intents``: its number
    of intents) and its routing ``policy`` if given, and make it the active one."""
    check_name(name)
    jbytes = Path(head_json).read_bytes()
    nbytes = Path(head_json).with_suffix(".npz").read_bytes()
    con.execute(_q("save_taxonomy"),
                [name, jbytes.decode("utf-8"), nbytes, int(report["n_intents"]),
                 report.get("file"), json.dumps(report, default=str), datetime.now(UTC),
                 policy.model_dump_json() if policy is not None else None])
    use_taxonomy(con, name)


def use_taxonomy(con: duckdb.DuckDBPyConnection, name: str | None) -> None:
    """Make taxonomy ``name`` active for this warehouse (None: the bundled default)."""
    if name is not None and con.execute(_q("taxonomy_exists"), [name]).fetchone() is None:
        known = ", ".join(list_taxonomies(con).get_column("name").to_list()) or "none yet"
        raise InputError(f"no intent taxonomy {name!r} in this warehouse (trained: {known}); "
                         "train one with `tierlens train-intents FILE --name NAME`")
    con.execute(_q("set_choice"), [CHOICE, name, datetime.now(UTC)])


def active_name(con: duckdb.DuckDBPyConnection) -> str | None:
    """The active taxonomy's name; None for the bundled default."""
    row = con.execute(_q("choice"), [CHOICE]).fetchone()
    return row[0] if row else None


def active_intent_files(con: duckdb.DuckDBPyConnection) -> tuple[str, bytes, bytes] | None:
    """(name, head JSON, head weights .npz) of the active taxonomy; None for the bundled
    default."""
    name = active_name(con)
    if name is None:
        return None
    row = con.execute(_q("head_files"), [name]).fetchone()
    if row is None:  # can't happen through use_taxonomy (it checks the name)
        raise InputError(f"the active intent taxonomy {name!r} is not in this warehouse; "
                         "pick one with `tierlens intents use NAME|default`")
    return name, row[0].encode("utf-8"), bytes(row[1])


def list_taxonomies(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per stored taxonomy: name, n_intents, source, trained_at, active."""
    active = active_name(con)
    df = con.execute(_q("taxonomies")).pl()
    return df.with_columns(active=pl.col("name") == pl.lit(active, pl.String)
                           if active is not None else pl.lit(False))


def routing_policy(con: duckdb.DuckDBPyConnection, policy_path: Path | None) -> RoutingPolicy:
    """The routing policy for this warehouse: ``policy_path`` (the setting
    ``routing_policy_path``) when set, else the active taxonomy's own policy
    (``train-intents --routing-policy``), else the bundled one."""
    if policy_path is None:
        name = active_name(con)
        row = con.execute(_q("taxonomy_policy"), [name]).fetchone() if name is not None else None
        if row is not None and row[0] is not None:
            return RoutingPolicy.model_validate_json(row[0])
    return load_routing_policy(policy_path)


def policy_gaps(labels: list[str] | tuple[str, ...], policy: RoutingPolicy) -> list[str]:
    """The taxonomy's intents ``policy`` has no entry for (they are expected in its
    ``default_queue``)."""
    return sorted(lab for lab in labels if lab not in policy.intents)
