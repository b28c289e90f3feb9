"""The compliance rulebook: pydantic models and a validating YAML loader.

A rulebook is one YAML file with a ``rulebook_version`` at the top and a list of ``rules``.
Every rule has ``id``, ``version``, ``kind``, ``severity`` (critical | major | minor),
``speakers``, ``channels`` (empty = every channel) and ``description``, plus the
parameters of its kind (see docs/compliance.md for each kind):

- ``phrase`` / ``regex``: literal phrases or regexes (Rust ``regex`` syntax, as polars runs it);
- ``semantic``: example sentences + a cosine ``threshold`` (shared sentence encoder);
- ``required``: ``must_say`` within ``within_turns`` turns by ``speakers`` (optionally after a
  ``trigger``);
- ``ordering``: ``first`` must come before ``then``;
- ``pii_exposure``: redacted PII of ``pii_types`` said (from ``pii_spans``), Luhn-valid digit
  runs left unredacted, or PII ``requested``;
- ``trapped_customer``: the customer asked for a human and no handoff came within
  ``max_bot_turns`` bot turns;
- ``vulnerable_customer``: cue types (bereavement, illness, ...) that must reach a human.

:func:`load_rulebook` raises :class:`tierlens.errors.ConfigError` naming the file, the rule
id, the line and the fix.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tierlens.errors import ConfigError

DEFAULT_RULEBOOK_PATH = Path(__file__).resolve().parent.parent / "config" / "rulebook.yaml"

Severity = Literal["critical", "major", "minor"]
Speaker = Literal["customer", "bot", "agent", "system"]
Channel = Literal["chat", "voice", "email", "social", "sms", "messaging"]
PiiType = Literal["EMAIL", "PHONE", "CARD", "SSN", "IBAN", "ACCOUNT", "PASSWORD"]
KINDS = ("phrase", "regex", "semantic", "required", "ordering", "pii_exposure",
         "trapped_customer", "vulnerable_customer")

DEFAULT_NEGATION_CUES = (r"\b(?:not|never|no|cannot|can't|won't|don't|doesn't|didn't|"
                         r"shouldn't|wouldn't|isn't|aren't|nobody|neither|nor|without|"
                         r"unable to)\b|n't\b")


def check_regex(pattern: str) -> str:
    """Compile ``pattern`` with the engine that runs it (polars / Rust regex) or raise ValueError."""
    try:
        pl.Series("x", [""], dtype=pl.String).str.contains(pattern)
    except Exception as exc:  # polars raises ComputeError with the parser's message
        first = str(exc).strip().splitlines()
        detail = " ".join(s.strip() for s in first[:4] if s.strip())
        raise ValueError(f"regex {pattern!r} does not compile in the Rust regex engine "
                         f"(no look-around, no back-references): {detail}") from exc
    return pattern


def phrase_regex(phrase: str) -> str:
    """A literal phrase as a regex: escaped, flexible whitespace, word boundaries at word edges."""
    words = [re.escape(w) for w in phrase.strip().split()]
    body = r"\s+".join(words)
    start = r"\b" if re.match(r"\w", phrase.strip()) else ""
    end = r"\b" if re.search(r"\w$", phrase.strip()) else ""
    return f"{start}{body}{end}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Phrases(_Strict):
    """The phrase/pattern fields and their checks, shared by ``Match`` and ``PhraseRule``."""

    phrases: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    ignore_negated: bool = True

    @field_validator("patterns")
    @classmethod
    def _compile(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for p in v:
            check_regex(p)
        return v

    @model_validator(mode="after")
    def _not_empty(self) -> _Phrases:
        if not self.phrases and not self.patterns:
            raise ValueError("give at least one entry in `phrases` or `patterns`")
        return self


class Match(_Phrases):
    """What to look for in a turn: literal ``phrases`` and/or ``patterns`` (regex).

    Matching is case-insensitive. With ``ignore_negated`` (the default) a match whose clause
    starts with a negation cue ("I will *never* ask for your password") is not a match.
    ``speakers`` (used inside ``required``/``ordering``) overrides the rule's speakers.
    """

    speakers: tuple[Speaker, ...] | None = None

    def regex(self) -> str:
        """One case-insensitive alternation of every phrase and pattern."""
        parts = [phrase_regex(p) for p in self.phrases] + [f"(?:{p})" for p in self.patterns]
        return "(?i)(?:" + "|".join(parts) + ")"


class RuleBase(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str = Field(min_length=1)
    kind: str
    severity: Severity
    speakers: tuple[Speaker, ...] = Field(min_length=1)
    channels: tuple[Channel, ...] = ()  # empty: every channel (unknown channel included)
    description: str = Field(min_length=10)
    enabled: bool = True
    # drop this rule's hit on a turn where one of these rules also hit (one flag per concept)
    suppressed_by: tuple[str, ...] = ()

    @field_validator("version", mode="before")
    @classmethod
    def _version_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | float) else v


class PhraseRule(RuleBase, _Phrases):
    """Hit on every turn by ``speakers`` that contains a phrase or pattern (not negated)."""

    kind: Literal["phrase", "regex"]

    def match(self) -> Match:
        return Match(phrases=self.phrases, patterns=self.patterns,
                     ignore_negated=self.ignore_negated)


class SemanticRule(RuleBase):
    """Hit on a turn whose embedding is within ``threshold`` cosine of any example.

    With ``counter_examples`` the turn must also be closer to the examples than to every
    counter-example (e.g. "I can't guarantee that" against "I guarantee that").
    """

    kind: Literal["semantic"]
    examples: tuple[str, ...] = Field(min_length=3)
    counter_examples: tuple[str, ...] = ()
    threshold: float = Field(gt=0.0, lt=1.0)
    min_words: int = Field(3, ge=1)


class RequiredRule(RuleBase):
    """``must_say`` must appear within the first ``within_turns`` turns by ``speakers``.

    With a ``trigger``, the window opens after the first trigger turn instead of at the start,
    and the rule applies only to conversations where the trigger occurs. A conversation in
    which ``speakers`` never speak (after the trigger) is not judged.
    """

    kind: Literal["required"]
    must_say: Match
    within_turns: int = Field(ge=1, le=50)
    trigger: Match | None = None


class OrderingRule(RuleBase):
    """``first`` (said by ``first.speakers``, default the rule's) must precede ``then``.

    ``then`` is said by the rule's ``speakers``. A hit is the first ``then`` turn with no
    ``first`` in an earlier or the same turn.
    """

    kind: Literal["ordering"]
    first: Match
    then: Match


class PiiExposureRule(RuleBase):
    """PII said or asked for by ``speakers``.

    - said: a ``pii_spans`` row of a type in ``pii_types`` (redaction happened at ingest;
      only the placeholder and its span are stored);
    - ``luhn_scan``: a Luhn-valid 13-19 digit run still in the stored text (redaction missed a
      card); the matched text is stored as ``[CARD]``, never the digits;
    - ``request``: an (un-negated) request for a password, PIN, full card number, SSN...
    """

    kind: Literal["pii_exposure"]
    pii_types: tuple[PiiType, ...] = ()
    luhn_scan: bool = False
    request: Match | None = None

    @model_validator(mode="after")
    def _something(self) -> PiiExposureRule:
        if not self.pii_types and not self.luhn_scan and self.request is None:
            raise ValueError("give `pii_types`, `luhn_scan: true` or a `request` match")
        return self


class TrappedCustomerRule(RuleBase):
    """PRODUCT.md: the customer asked for a human and no handoff came within 2 bot turns.

    A request counts only while no human agent has spoken yet. "Handoff" = a ``handoff`` or
    ``transfer`` event or an agent turn. Trapped when ``max_bot_turns + 1`` bot turns follow
    the request before any handoff, or when the conversation ends after at least one bot turn
    with no handoff at all.
    """

    kind: Literal["trapped_customer"]
    human_request: Match
    max_bot_turns: int = Field(2, ge=0, le=20)


class VulnerableCustomerRule(RuleBase):
    """A cue (per type: bereavement, illness, ...) from ``speakers`` that never reaches a human.

    Hit when no agent spoke before the cue and no agent turn or handoff/transfer event comes
    after it. ``detail`` records the cue type.
    """

    kind: Literal["vulnerable_customer"]
    cues: dict[str, Match] = Field(min_length=1)


Rule = Annotated[
    PhraseRule | SemanticRule | RequiredRule | OrderingRule | PiiExposureRule
    | TrappedCustomerRule | VulnerableCustomerRule,
    Field(discriminator="kind"),
]


class Scoring(_Strict):
    """risk = 1 - exp(-sum of severity weights over the distinct rules hit)."""

    severity_weights: dict[Severity, float] = Field(
        default_factory=lambda: {"critical": 1.0, "major": 0.4, "minor": 0.1})
    red_flag_threshold: float = Field(0.5, gt=0.0, le=1.0)


class Negation(_Strict):
    cues: str = DEFAULT_NEGATION_CUES
    window_chars: int = Field(40, ge=5, le=200)

    @field_validator("cues")
    @classmethod
    def _compile(cls, v: str) -> str:
        return check_regex(v)


class Rulebook(_Strict):
    rulebook_version: str = Field(min_length=1)
    description: str = ""
    scoring: Scoring = Field(default_factory=Scoring)
    negation: Negation = Field(default_factory=Negation)
    rules: tuple[Rule, ...] = Field(min_length=1)
    source: str | None = Field(None, exclude=True)  # file path, for messages only
    content_hash: str | None = Field(None, exclude=True)  # sha256 of the file text

    @field_validator("rulebook_version", mode="before")
    @classmethod
    def _version_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | float) else v

    @model_validator(mode="after")
    def _unique_ids(self) -> Rulebook:
        seen: set[str] = set()
        for r in self.rules:
            if r.id in seen:
                raise ValueError(f"duplicate rule id {r.id!r}; rule ids must be unique")
            seen.add(r.id)
        for r in self.rules:
            unknown = [s for s in r.suppressed_by if s not in seen or s == r.id]
            if unknown:
                raise ValueError(f"rule {r.id!r}: suppressed_by names {unknown}, which are not "
                                 "other rule ids of this rulebook")
        return self

    @property
    def active_rules(self) -> tuple[Any, ...]:
        return tuple(r for r in self.rules if r.enabled)

    def rule(self, rule_id: str) -> Any:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


# ----------------------------------------------------------------------------- loading
_FIX_HINTS = {
    "missing": "add the field",
    "extra_forbidden": "remove the field or fix its spelling (see docs/compliance.md)",
    "literal_error": "use one of the allowed values",
    "union_tag_invalid": "set `kind` to one of " + ", ".join(KINDS),
    "union_tag_not_found": "add `kind:` (one of " + ", ".join(KINDS) + ")",
    "string_pattern_mismatch": "use lowercase letters, digits and underscores (e.g. pii_request)",
    "too_short": "add more entries",
    "greater_than": "use a larger value",
    "greater_than_equal": "use a larger value",
    "less_than": "use a smaller value",
    "less_than_equal": "use a smaller value",
    "value_error": "correct the value as the message says",
}


def _node_at(root: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """The deepest YAML node along a pydantic error location (skipping union tags)."""
    node, best = root, root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == str(part)), None)
            if nxt is None:
                continue  # a discriminator tag or a model name: not in the document
            node = best = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = best = node.value[part]
    return best


def _rule_id_at(doc: Any, loc: tuple[Any, ...]) -> str | None:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = doc.get("rules") if isinstance(doc, dict) else None
        if isinstance(rules, list) and loc[1] < len(rules) and isinstance(rules[loc[1]], dict):
            return str(rules[loc[1]].get("id", f"#{loc[1] + 1}"))
        return f"#{loc[1] + 1}"
    return None


def _explain(path: str, doc: Any, root: yaml.Node | None, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors()[:5]:
        loc = tuple(err["loc"])
        node = _node_at(root, loc)
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        rid = _rule_id_at(doc, loc)
        field = ".".join(str(p) for p in loc[2:] if not (isinstance(p, str) and p in KINDS)) \
            if rid else ".".join(str(p) for p in loc)
        where = f"rule {rid!r}" + (f", field {field!r}" if field else "") if rid \
            else f"field {field!r}"
        msg = err["msg"].removeprefix("Value error, ")
        fix = _FIX_HINTS.get(err["type"], "see docs/compliance.md for the rule format")
        lines.append(f"{path}{line}: {where}: {msg}. Fix: {fix}")
    more = len(exc.errors()) - 5
    return "\n".join(lines) + (f"\n(+{more} more errors)" if more > 0 else "")


def parse_rulebook(text: str, source: str = "<rulebook>") -> Rulebook:
    """Validate rulebook YAML text; raise ConfigError naming ``source``, rule id, line and fix."""
    try:
        doc = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML: {exc}. Fix the syntax at the marked line"
                          ) from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"{source}: the top level must be a mapping with `rulebook_version` "
                          "and `rules`. Fix: start from src/tierlens/config/rulebook.yaml")
    try:
        book = Rulebook.model_validate(doc)
    except ValidationError as exc:
        raise ConfigError(_explain(source, doc, root, exc)) from exc
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return book.model_copy(update={"source": source, "content_hash": digest})


def load_rulebook(path: Path | str | None = None) -> Rulebook:
    """Load and validate a rulebook file (default: the bundled config/rulebook.yaml)."""
    path = Path(path) if path is not None else DEFAULT_RULEBOOK_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: can't read the rulebook ({exc.strerror}). "
                          "Fix: check the path given to --rules") from exc
    return parse_rulebook(text, str(path))


__all__ = ["DEFAULT_RULEBOOK_PATH", "KINDS", "Match", "Negation", "OrderingRule",
           "PhraseRule", "PiiExposureRule", "RequiredRule", "Rule", "Rulebook", "Scoring",
           "SemanticRule", "TrappedCustomerRule", "VulnerableCustomerRule", "check_regex",
           "load_rulebook", "parse_rulebook", "phrase_regex"]
