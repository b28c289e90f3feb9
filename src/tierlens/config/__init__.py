"""Loaders for the bundled intent taxonomy and routing policy (YAML, validated on load).

- ``intents.yaml``: one entry per intent (tier, owning queue, description, dataset sources,
  handwritten seeds). ``load_intents()`` returns ``list[Intent]`` in file order.
- ``routing_policy.yaml``: the expected *first* queue and tier of each intent (``bot`` is the
  AI tier). ``load_routing_policy()`` returns a ``RoutingPolicy``.

Both raise ``tierlens.errors.ConfigError`` whose message names the file, the entry (and its
line where known) and the fix. Duplicate keys are errors, not silently overwritten.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tierlens.errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parent
INTENTS_PATH = CONFIG_DIR / "intents.yaml"
ROUTING_POLICY_PATH = CONFIG_DIR / "routing_policy.yaml"

DATASETS = ("banking77", "clinc150", "multidogo", "sgd")


class Source(BaseModel):
    """One public-dataset label whose utterances belong to an intent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: Literal["banking77", "clinc150", "multidogo", "sgd"]
    label: str | None = None  # banking77 / clinc150 / multidogo label
    domain: str | None = None  # multidogo domain folder
    intent: str | None = None  # sgd active intent (USER turns with INFORM_INTENT)
    min_words: int = Field(1, ge=1)
    must_contain: str | None = None  # case-insensitive regex

    @model_validator(mode="after")
    def _check_keys(self) -> Source:
        if self.dataset in ("banking77", "clinc150") and not self.label:
            raise ValueError(f"a {self.dataset} source needs `label`")
        if self.dataset == "multidogo" and not (self.label and self.domain):
            raise ValueError("a multidogo source needs `domain` and `label`")
        if self.dataset == "sgd" and not self.intent:
            raise ValueError("an sgd source needs `intent`")
        if self.must_contain is not None:
            try:
                re.compile(self.must_contain)
            except re.error as exc:
                raise ValueError(f"must_contain is not a valid regex: {exc}") from exc
        return self

    def matches(self, text: str) -> bool:
        """Whether an utterance passes this source's filters (min_words, must_contain)."""
        if len(text.split()) < self.min_words:
            return False
        return self.must_contain is None or re.search(self.must_contain, text, re.IGNORECASE) is not None


class Intent(BaseModel):
    """One taxonomy intent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    tier: Literal[1, 2]
    queue: str
    description: str
    sources: tuple[Source, ...] = ()
    seeds: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _has_examples(self) -> Intent:
        if not self.sources and not self.seeds:
            raise ValueError("has neither `sources` nor `seeds`; add at least one")
        return self


class PolicyEntry(BaseModel):
    """Expected first queue (and tier) of one intent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queue: str
    tier: Literal[1, 2]
    handoff_queue: str | None = None


class RoutingPolicy(BaseModel):
    """The routing policy: intent -> expected first queue; ``bot_queue`` is the AI tier."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    default_queue: str
    bot_queue: str = "bot"
    queues: tuple[str, ...]
    intents: dict[str, PolicyEntry]

    def expected_queue(self, intent: str | None) -> str | None:
        """The expected first queue for a detected intent (None when the intent is unknown)."""
        if intent is None:
            return None
        entry = self.intents.get(intent)
        return entry.queue if entry else self.default_queue

    def handoff_queue(self, intent: str) -> str:
        """The human queue a bot handoff for this intent should reach."""
        entry = self.intents.get(intent)
        if entry is None:
            return self.default_queue
        return entry.handoff_queue or entry.queue

    def human_queues(self) -> tuple[str, ...]:
        return tuple(q for q in self.queues if q != self.bot_queue)


# ----------------------------------------------------------------------------- YAML reading
class _Loader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None,
                f"duplicate key {key!r} (first at line {seen[key] + 1}); remove one of them",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path) -> tuple[dict, dict[str, int]]:
    """Parse a YAML file; return the document and the 1-based line of each `intents` key."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: can't read the file ({exc.strerror}); check the path") from exc
    try:
        doc = yaml.load(text, Loader=_Loader)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}; fix the syntax at the marked line") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("intents"), dict):
        raise ConfigError(f"{path}: top level must be a mapping with an `intents:` mapping; "
                          "see the bundled file for the layout")
    lines: dict[str, int] = {}
    for key_node, value_node in root.value:
        if key_node.value == "intents" and isinstance(value_node, yaml.MappingNode):
            lines = {k.value: k.start_mark.line + 1 for k, _ in value_node.value}
    return doc, lines


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(entry)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def load_intents(path: Path | str | None = None) -> list[Intent]:
    """Load and validate the intent taxonomy (default: the bundled intents.yaml)."""
    path = Path(path) if path is not None else INTENTS_PATH
    doc, lines = _read_yaml(path)
    out: list[Intent] = []
    for name, spec in doc["intents"].items():
        where = f"{path}: intent {name!r} (line {lines.get(str(name), '?')})"
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}: must be a mapping with tier, queue, description")
        try:
            out.append(Intent(name=str(name), **spec))
        except (ValidationError, TypeError) as exc:
            msg = _describe(exc) if isinstance(exc, ValidationError) else str(exc)
            raise ConfigError(f"{where}: {msg}. Fix: tier is 1 or 2; queue and description "
                              "are strings; each source names a dataset and its label") from exc
    return out


def load_routing_policy(path: Path | str | None = None) -> RoutingPolicy:
    """Load and validate the routing policy (default: the bundled routing_policy.yaml)."""
    path = Path(path) if path is not None else ROUTING_POLICY_PATH
    doc, lines = _read_yaml(path)
    entries: dict[str, PolicyEntry] = {}
    for name, spec in doc["intents"].items():
        where = f"{path}: intent {name!r} (line {lines.get(str(name), '?')})"
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}: must be a mapping like {{queue: bot, tier: 1}}")
        try:
            entries[str(name)] = PolicyEntry(**spec)
        except (ValidationError, TypeError) as exc:
            msg = _describe(exc) if isinstance(exc, ValidationError) else str(exc)
            raise ConfigError(f"{where}: {msg}. Fix: give `queue` (a listed queue) and "
                              "`tier` (1 or 2)") from exc
    rest = {k: v for k, v in doc.items() if k != "intents"}
    try:
        policy = RoutingPolicy(intents=entries, **rest)
    except (ValidationError, TypeError) as exc:
        msg = _describe(exc) if isinstance(exc, ValidationError) else str(exc)
        raise ConfigError(f"{path}: top level: {msg}. Fix: give version, default_queue, "
                          "queues (a list including the bot queue) and intents") from exc
    known = set(policy.queues)
    if policy.bot_queue not in known or policy.default_queue not in known:
        raise ConfigError(f"{path}: bot_queue {policy.bot_queue!r} and default_queue "
                          f"{policy.default_queue!r} must both appear in `queues`; add them")
    for name, entry in policy.intents.items():
        for q in (entry.queue, entry.handoff_queue):
            if q is not None and q not in known:
                raise ConfigError(f"{path}: intent {name!r} (line {lines.get(name, '?')}): "
                                  f"queue {q!r} is not in `queues`; add it there or fix the name")
    return policy


def check_policy_covers(intents: list[Intent], policy: RoutingPolicy) -> list[str]:
    """Problems between a taxonomy and a policy (missing intents, tier mismatches); [] if none."""
    problems = []
    for it in intents:
        entry = policy.intents.get(it.name)
        if entry is None:
            problems.append(f"intent {it.name!r} has no routing policy entry")
        elif entry.tier != it.tier:
            problems.append(f"intent {it.name!r}: tier {it.tier} in intents.yaml but "
                            f"{entry.tier} in the routing policy")
    return problems


__all__ = [
    "INTENTS_PATH",
    "ROUTING_POLICY_PATH",
    "Intent",
    "PolicyEntry",
    "RoutingPolicy",
    "Source",
    "check_policy_covers",
    "load_intents",
    "load_routing_policy",
]
