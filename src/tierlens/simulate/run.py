"""``simulate()``: write a realistic hybrid-contact-center data set plus its planted truth.

Outputs in ``out_dir``:
- conversations.jsonl.gz         one conversation per line (PRODUCT.md input contract)
- truth/ground_truth.jsonl.gz    one planted-truth row per conversation (same order)
- truth/ground_truth_kpis.json   monthly planted KPIs (see truth.py for the definitions)
- truth/.noingest                marker: ``tierlens ingest out_dir`` leaves truth/ out, so
                                 the folder's only input is the conversations

Determinism: all randomness comes from ``numpy.random.SeedSequence(seed)``; no wall clock,
no set iteration; gzip headers carry no timestamp. Same arguments => byte-identical files.
"""

from __future__ import annotations

import calendar
import datetime as dt
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tierlens.config import Intent, check_policy_covers, load_intents, load_routing_policy
from tierlens.errors import ConfigError
from tierlens.schema import NO_INGEST_MARKER
from tierlens.settings import HandleTimeSettings
from tierlens.simulate.bank import load_bank
from tierlens.simulate.render import Context, agents_by_queue, render
from tierlens.simulate.rng import Draw, Weighted
from tierlens.simulate.scenario import MIX, Scenario, plan
from tierlens.simulate.truth import kpi_report

DAY = 86_400
HOUR_WEIGHTS = (0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 2.5, 3.5, 3.8, 3.6, 3.2, 3.3, 3.4, 3.2,
                3.0, 2.6, 2.2, 1.8, 1.4, 1.0, 0.7, 0.4)
DOW_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 0.95, 0.6, 0.45)  # Monday..Sunday
MONTHLY_GROWTH = 1.03
INTENT_WEIGHT = {
    "order_status": 3, "password_reset": 3, "billing_inquiry": 3, "appointment": 2,
    "technical_problem": 2, "talk_to_human": 2, "request_refund": 2, "update_account_details": 1.5,
    "complaint": 3, "cancel_service": 2, "dispute_charge": 2, "vulnerable_customer": 1.2,
}
FOLLOWUP_SPAWN = {"abandoned": 0.35, "unresolved": 0.45, "resolved": 0.06}


TRUTH_DIR = "truth"


def truth_files(out_dir: Path) -> tuple[Path, Path]:
    """(ground-truth rows, planted KPIs) of a simulation written to ``out_dir``."""
    truth = Path(out_dir) / TRUTH_DIR
    return truth / "ground_truth.jsonl.gz", truth / "ground_truth_kpis.json"


@dataclass(frozen=True)
class SimulationResult:
    out_dir: Path
    conversations_path: Path
    ground_truth_path: Path
    kpis_path: Path
    n_conversations: int
    start: dt.date
    end: dt.date  # exclusive
    seed: int


@dataclass(slots=True)
class _Contact:
    start: int
    customer: str | None
    scenario: Scenario
    opener_prefix: bool


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    return dt.date(d.year + y, m + 1, min(d.day, calendar.monthrange(d.year + y, m + 1)[1]))


def _epoch(d: dt.date) -> int:
    return calendar.timegm(d.timetuple())


def _day_sampler(start: dt.date, end: dt.date) -> Weighted:
    days, weights = [], []
    d, m0 = start, start.year * 12 + start.month
    while d < end:
        months_in = d.year * 12 + d.month - m0
        days.append(_epoch(d))
        weights.append(DOW_WEIGHTS[d.weekday()] * MONTHLY_GROWTH ** months_in)
        d += dt.timedelta(days=1)
    return Weighted(days, weights)


def _intent_sampler(intents: list[Intent]) -> Weighted:
    t1 = [i for i in intents if i.tier == 1]
    t2 = [i for i in intents if i.tier == 2]
    w1 = sum(INTENT_WEIGHT.get(i.name, 1.0) for i in t1)
    w2 = sum(INTENT_WEIGHT.get(i.name, 1.0) for i in t2)
    share = MIX["tier2_share"]
    return Weighted(t1 + t2, [INTENT_WEIGHT.get(i.name, 1.0) * (1 - share) / w1 for i in t1]
                    + [INTENT_WEIGHT.get(i.name, 1.0) * share / w2 for i in t2])


def _plan_contacts(n: int, months: int, start: dt.date, end: dt.date,
                   seed_seq: np.random.SeedSequence, intents: list[Intent],
                   policy: Any) -> list[_Contact]:
    draw = Draw(seed_seq)
    t0, t1 = _epoch(start), _epoch(end)
    ramp = 14 * DAY
    switch_mid = t0 + int(0.45 * (t1 - t0))
    days, hours = _day_sampler(start, end), Weighted(list(range(24)), HOUR_WEIGHTS)
    intent_w = _intent_sampler(intents)
    by_name = {i.name: i for i in intents}
    # a Zipf-ish pool: ~0.12 contacts per customer-month on average, a few heavy contactors
    pool_size = max(20, int(n / (0.12 * months)))
    ids = np.random.Generator(np.random.PCG64(seed_seq.spawn(1)[0])).permutation(pool_size)
    customers = [f"cust-{int(k):06d}" for k in ids]
    zipf = Weighted(customers, [1.0 / (k + 10) ** 0.5 for k in range(pool_size)])

    def version_at(t: int) -> str:
        # bot-v4 rolls out over two weeks around 45% of the period
        p = min(1.0, max(0.0, (t - (switch_mid - ramp // 2)) / ramp))
        return "bot-v4" if draw.u() < p else "bot-v3"

    contacts: list[_Contact] = []
    pending: list[tuple[int, str, Intent, bool]] = []  # follow-ups: start, customer, intent, prefix
    while len(contacts) < n:
        if pending:
            t, cust, intent, prefix = pending.pop()
            followup = True
        else:
            t = days.pick(draw) + hours.pick(draw) * 3600 + draw.randint(0, 3599)
            cust = None if draw.chance(MIX["anonymous"]) else zipf.pick(draw)
            intent, prefix, followup = intent_w.pick(draw), False, False
        sc = plan(draw, intent, policy, version_at(t), is_followup=followup)
        contacts.append(_Contact(t, cust, sc, prefix))
        p = 0.4 if sc.trapped else FOLLOWUP_SPAWN[sc.outcome]
        if cust is not None and draw.chance(p * (0.5 if followup else 1.0)):
            if draw.chance(0.75):
                gap = int(min(max(draw.lognormal_seconds(36 * 3600, 0.9), 600), 7 * DAY - 60))
            else:
                gap = draw.randint(7 * DAY + 3600, 25 * DAY)
            same = draw.chance(0.75)
            nxt = intent if same else (by_name["complaint"] if draw.chance(0.3)
                                       else intent_w.pick(draw))
            if t + gap < t1:
                pending.append((t + gap, cust, nxt, same and gap < 7 * DAY and draw.chance(0.5)))
    return contacts


def _open_gz(path: Path) -> gzip.GzipFile:
    return gzip.GzipFile(filename="", mode="wb", fileobj=path.open("wb"), mtime=0,
                         compresslevel=5)


def _dumps(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def simulate(n_conversations: int, months: int, seed: int, out_dir: Path,
             start: dt.date = dt.date(2026, 6, 1),
             handle: HandleTimeSettings | None = None,
             bank: Path | None = None) -> SimulationResult:
    """Write conversations, ground truth and planted KPIs for a simulated hybrid center.

    ``handle``: the handle-time caps the truth is planted with (default: the bundled ones);
    pass the settings' ``handle_time`` so the pipeline under those settings reproduces it;
    recorded in the KPI file. ``bank``: the utterance bank folder (default: the
    repository's; see :func:`tierlens.simulate.bank.bank_dir`)."""
    handle = handle or HandleTimeSettings()
    if n_conversations < 1 or months < 1:
        raise ConfigError(f"simulate: conversations ({n_conversations}) and months ({months}) "
                          "must both be at least 1")
    intents, policy = load_intents(), load_routing_policy()
    problems = check_policy_covers(intents, policy)
    if problems:
        raise ConfigError("routing policy does not match intents.yaml: " + "; ".join(problems[:3]))
    utterances = load_bank(bank)
    for it in intents:
        utterances.opener_pool(it.name)  # fail early when the bank lacks an intent
    end = _add_months(start, months)
    plan_seq, render_seq = np.random.SeedSequence(seed).spawn(2)
    contacts = _plan_contacts(n_conversations, months, start, end, plan_seq, intents, policy)
    contacts.sort(key=lambda c: c.start)  # stable: ties keep planning order
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = Context(bank=utterances, policy=policy, agents=agents_by_queue(policy.human_queues()),
                  other_topics=("a card payment", "a transfer", "your balance", "a refund",
                                "your address", "a direct debit", "an order"), handle=handle)
    draw = Draw(render_seq)
    conv_path = out_dir / "conversations.jsonl.gz"
    truth_rows: list[dict[str, Any]] = []
    width = max(6, len(str(n_conversations)))
    with _open_gz(conv_path) as fh:
        buf: list[str] = []
        for i, c in enumerate(contacts):
            conv, truth = render(draw, c.scenario, ctx, f"sim{seed}-{i:0{width}d}", c.customer,
                                 c.start, c.opener_prefix)
            buf.append(_dumps(conv))
            truth_rows.append(truth)
            if len(buf) >= 2000:
                fh.write(("\n".join(buf) + "\n").encode())
                buf.clear()
        if buf:
            fh.write(("\n".join(buf) + "\n").encode())
    report = kpi_report(truth_rows)
    truth_path, kpi_path = truth_files(out_dir)
    truth_path.parent.mkdir(exist_ok=True)
    (truth_path.parent / NO_INGEST_MARKER).write_text(
        "tierlens ingest skips this folder: the simulator's ground truth is not input\n")
    with _open_gz(truth_path) as fh:
        for k in range(0, len(truth_rows), 2000):
            fh.write(("\n".join(_dumps(r) for r in truth_rows[k:k + 2000]) + "\n").encode())
    report = {"seed": seed, "n_conversations": n_conversations, "start": start.isoformat(),
              "end": end.isoformat(), "handle_time": handle.model_dump(mode="json"), **report}
    kpi_path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return SimulationResult(out_dir, conv_path, truth_path, kpi_path, n_conversations, start, end,
                            seed)
