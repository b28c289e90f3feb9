"""Customer-voice sentiment set (data/sentiment/customer_voice/): draw, assemble, resolve, export.

The committed `items.csv` holds text only for permissively licensed items (MultiDoGO, and the
project-authored `written/*.csv`). USS and TweetEval items are committed as a reference only
(`ref`: shared file + line number) with a short hash of the text; their text is resolved from
the shared data folder at use time ($TIERLENS_SHARED_DATA, default ../shared/data).

    # print every item with its text, for an annotator (outside the repository!)
    python data/scripts/build_customer_voice.py export --out /tmp/cv_to_label.csv
    # count tables for customer_voice/README.md
    python data/scripts/build_customer_voice.py stats
    # how the real items were drawn (deterministic) and the set assembled
    python data/scripts/build_customer_voice.py draw --out /tmp/cv_candidates.csv
    python data/scripts/build_customer_voice.py assemble --candidates /tmp/cv_candidates.csv \\
        --exclude /tmp/cv_exclude.txt

Training code imports `load_labelled()` (rows with text resolved and a label), `load_items()`
and `split_of()`.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import os
import random
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CV_DIR = REPO / "data" / "sentiment" / "customer_voice"
SHARED = Path(os.environ.get("TIERLENS_SHARED_DATA", REPO.parent / "shared" / "data"))
COLUMNS = ["item_id", "source", "industry", "channel", "style", "split", "ref", "text_sha1", "text"]
LABELS = ("negative", "neutral", "positive")
COMMITTABLE = ("multidogo/", "written")  # source prefixes whose text may be committed
REAL = ("multidogo/", "uss/", "tweeteval")
SEED = 20261129

MD_PLAN = {"airline": 170, "fastfood": 80, "finance": 170, "insurance": 150, "media": 70,
           "software": 170}
MD_INDUSTRY = {"airline": "airline", "fastfood": "food_delivery", "finance": "bank",
               "insurance": "insurance", "media": "telecom", "software": "software"}
NEG = re.compile(r"\b(not|never|still|wrong|problem|issue|frustrat\w*|annoy\w*|terrible|horrible|"
                 r"awful|worst|ridiculous|disappoint\w*|upset|angry|charged|overcharged|stolen|lost|"
                 r"broken|doesn't|didn't|won't|isn't|can't|cannot|error|crash\w*|delay\w*|late|"
                 r"waiting|unhappy|complain\w*|refund|fraud|damage\w*|fail\w*|hate|sucks|bad|poor|"
                 r"rude|missed|unacceptable)\b", re.I)
POS = re.compile(r"\b(thank\w*|great|awesome|perfect|excellent|appreciate\w*|wonderful|helpful|"
                 r"love|happy|glad|amazing)\b", re.I)
TWEET_KW = re.compile(r"(customer service|customer care|flight|delayed|cancel+ed|refund|order|"
                      r"deliver|wifi|internet|phone|\bapp\b|bank|account|\bbill\b|insurance|on hold|"
                      r"support|package|shipping|airline|verizon|comcast|at&t|sprint|t-mobile|amazon|"
                      r"iphone|uber|netflix|xbox|microsoft|samsung|walmart|starbucks|fedex|\bups\b|"
                      r"usps)", re.I)
FIRST_PERSON = re.compile(r"\b(i|my|me|i'm|im|we|our)\b", re.I)
INDUSTRY_KW = [  # first match wins; used for USS dialogues and tweets
    ("airline", r"flight|airline|airport|plane|boarding"),
    ("bank", r"\bbank|transfer|balance|checking|savings|wells fargo"),
    ("telecom", r"verizon|comcast|at&t|sprint|t-mobile|wifi|internet|phone|signal"),
    ("software", r"\bapp\b|apps|software|microsoft|windows|xbox|update|netflix|google"),
    ("food_delivery", r"restaurant|food|pizza|starbucks|mcdonald|table for|dinner|lunch"),
    ("retail", r"amazon|walmart|order|package|shipping|store|fedex|\bups\b|usps"),
    ("insurance", r"insurance|claim"),
    ("travel", r"hotel|train|\bbus\b|taxi|rental car|ride|trip|attraction|guesthouse"),
    ("entertainment", r"movie|film|song|music|event|concert|play it"),
]


def sha(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def split_of(item_id: str, source: str) -> str:
    """Fixed split: test only for real customer text (40% hash bucket); 10% validation."""
    h = int(hashlib.sha1(item_id.encode()).hexdigest(), 16)
    if source.startswith(REAL) and h % 5 < 2:
        return "test"
    return "validation" if (h // 5) % 10 == 0 else "train"


def industry_of(text: str, default: str) -> str:
    for name, pat in INDUSTRY_KW:
        if re.search(pat, text, re.I):
            return name
    return default


def style_of(text: str) -> str:
    """Surface-form tag for real items (a heuristic, not an annotation)."""
    letters = [c for c in text if c.isalpha()]
    caps = sum(c.isupper() for c in letters) / max(1, len(letters))
    if (len(letters) > 8 and caps > 0.6) or re.search(r"[\U0001F300-\U0001FAFF]|!!", text):
        return "caps_emoji_typos"
    if len(text.split()) > 35 and len(re.findall(r"[.!?]+", text)) >= 3:
        return "venting"
    if re.search(r"\bthank", text, re.I) and re.search(r"\b(but|still|however)\b", text, re.I):
        return "thanks_but"
    if "?" in text or re.match(r"(why|how|where|when|what|is|are|can|could|do|does)\b", text, re.I):
        return "question"
    if POS.search(text):
        return "praise"
    return "statement"


# ---------------------------------------------------------------- draw real candidates
def _multidogo(shared: Path, rng: random.Random) -> list[dict]:
    rows, seen = [], set()
    for domain, n in MD_PLAN.items():
        pools: dict[str, list] = {"neg": [], "pos": [], "other": []}
        for part in ("train", "dev"):
            rel = f"intents/multidogo/{domain}/{part}.tsv.gz"
            with gzip.open(shared / rel, "rt") as f:
                for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                    text = " ".join((r.get("utterance") or "").split())
                    norm = text.lower()
                    if len(text.split()) < 4 or norm in seen:
                        continue
                    seen.add(norm)
                    kind = "neg" if NEG.search(text) else "pos" if POS.search(text) else "other"
                    pools[kind].append((f"{rel}#{r['conversationId']}:{r['turnNumber']}", text))
        want = {"neg": int(n * 0.6), "pos": int(n * 0.25)}
        want["other"] = n - want["neg"] - want["pos"]
        for kind, k in want.items():
            pool = sorted(pools[kind])
            rng.shuffle(pool)
            for ref, text in pool[:k]:
                rows.append({"source": f"multidogo/{domain}", "industry": MD_INDUSTRY[domain],
                             "channel": "chat", "ref": ref, "text": text})
    return rows


def _uss(shared: Path, rng: random.Random, n: int = 320) -> list[dict]:
    """User turns rated low: all with mean rating < 2.25, then mean 2.33 (2,2,3) up to n."""
    rows, near = [], []
    for name in ("SGD", "MWOZ"):
        rel = f"satisfaction/uss/{name}.txt"
        lines = (shared / rel).read_text(encoding="utf-8", errors="replace").split("\n")
        start = 0
        for i, line in enumerate(lines + [""]):
            if line.strip():
                continue
            dialogue = [(j, lines[j].split("\t")) for j in range(start, i)]
            context = " ".join(p[1] for _, p in dialogue if len(p) > 1)
            for j, p in dialogue:
                if len(p) < 4 or p[0] != "USER" or p[1] == "OVERALL" or not p[3].strip():
                    continue
                try:
                    ratings = [int(x) for x in p[3].split(",")]
                except ValueError:
                    continue
                mean = sum(ratings) / len(ratings)
                if mean < 2.4 and len(p[1].split()) >= 2:
                    (rows if mean < 2.25 else near).append({"source": f"uss/{name.lower()}", "channel": "chat",
                                 "industry": industry_of(context, "other"),
                                 "ref": f"{rel}:{j + 1}", "text": p[1].strip()})
            start = i + 1
    rng.shuffle(near)
    return rows + near[: max(0, n - len(rows))]


def _tweets(shared: Path) -> list[dict]:
    rows = []
    for part in ("val", "test"):
        rel = f"sentiment/tweeteval/{part}_text.txt"
        for i, line in enumerate((shared / rel).read_text(encoding="utf-8").split("\n")):
            text = line.strip()
            if text and TWEET_KW.search(text) and FIRST_PERSON.search(text):
                rows.append({"source": "tweeteval", "channel": "social_post",
                             "industry": industry_of(text, "other"), "ref": f"{rel}:{i + 1}",
                             "text": text})
    return rows


def draw(shared: Path) -> list[dict]:
    rng = random.Random(SEED)
    rows = _multidogo(shared, rng) + _uss(shared, rng) + _tweets(shared)
    seen, out = set(), []
    for r in rows:
        if r["text"].lower() in seen:
            continue
        seen.add(r["text"].lower())
        code = {"multidogo": "md", "uss": "us", "tweeteval": "tw"}[r["source"].split("/")[0]]
        r["item_id"] = f"cv-{code}-{sha(r['ref'])[:8]}"
        r["style"] = style_of(r["text"])
        out.append(r)
    return out


# ---------------------------------------------------------------- assemble / resolve
def _read(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict], columns: list[str]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def written_rows() -> list[dict]:
    rows = []
    for path in sorted((CV_DIR / "written").glob("*.csv")):
        for r in _read(path):
            rows.append({**r, "source": "written", "ref": ""})
    return rows


def norm(text: str) -> str:
    return " ".join(text.lower().split())


def v1_texts() -> set[str]:
    """Texts of the v1 in-domain set: kept out of this set so no test item is trained on."""
    return {norm(r["text"]) for r in _read(CV_DIR.parent / "items.csv")}


def assemble(candidates: Path, exclude: Path | None) -> list[dict]:
    drop = set(exclude.read_text().split()) if exclude else set()
    v1 = v1_texts()
    rows = [r for r in _read(candidates)
            if r["item_id"] not in drop and norm(r["text"]) not in v1] + written_rows()
    for r in rows:
        r["split"] = split_of(r["item_id"], r["source"])
        r["text_sha1"] = sha(r["text"])
        if not r["source"].startswith(COMMITTABLE):
            r["text"] = ""  # reference only: never commit USS / TweetEval text
    return rows


class ResolveError(Exception):
    """A reference can't be resolved from the shared folder (missing file or changed text)."""


def resolve(ref: str, shared: Path, cache: dict) -> str:
    rel, _, line = ref.rpartition(":")
    if rel not in cache:
        path = shared / rel
        if not path.exists():
            raise ResolveError(f"{path}: missing (set TIERLENS_SHARED_DATA to the shared data folder)")
        cache[rel] = path.read_text(encoding="utf-8", errors="replace").split("\n")
    text = cache[rel][int(line) - 1]
    if rel.startswith("satisfaction/"):  # USS: ROLE \t text \t action \t ratings
        text = text.split("\t")[1]
    return text.strip()


def load_items(shared: Path = SHARED, items: Path = CV_DIR / "items.csv") -> list[dict]:
    """Every item with its text (references resolved and checked against text_sha1)."""
    cache: dict = {}
    rows = _read(items)
    for r in rows:
        if not r["text"]:
            r["text"] = resolve(r["ref"], shared, cache)
            if sha(r["text"]) != r["text_sha1"]:
                raise ResolveError(f"{r['ref']}: text differs from the one labelled ({r['item_id']})")
    return rows


def load_labelled(labels: Path = CV_DIR / "labels_a.csv", shared: Path = SHARED) -> list[dict]:
    """load_items() plus a `label` from a labels file (labels_a.csv now; gold.csv once it exists)."""
    by_id = {r["item_id"]: r["label"] for r in _read(labels)}
    rows = load_items(shared)
    missing = [r["item_id"] for r in rows if r["item_id"] not in by_id]
    if missing:
        raise ResolveError(f"{labels}: no label for {len(missing)} items (first {missing[0]})")
    return [{**r, "label": by_id[r["item_id"]]} for r in rows]


def stats(items: list[dict], labels: list[dict]) -> str:
    """Markdown count tables (pasted into customer_voice/README.md; a test keeps them current)."""
    label = {r["item_id"]: r["label"] for r in labels}
    kind = {"written": "written (project-authored)"}

    def table(title: str, key) -> str:
        groups: dict[str, list] = {}
        for r in items:
            groups.setdefault(key(r), []).append(label[r["item_id"]])
        head = f"| {title} | items | " + " | ".join(LABELS) + " |\n|---|---|" + "---|" * len(LABELS)
        rows = [f"| {k} | {len(v)} | " + " | ".join(str(v.count(x)) for x in LABELS) + " |"
                for k, v in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))]
        return "\n".join([head, *rows])

    total = f"Total: {len(items)} items."
    return "\n\n".join([
        total,
        table("source", lambda r: kind.get(r["source"], r["source"])),
        table("split / origin", lambda r: f"{r['split']} / {'written' if r['source'] == 'written' else 'real'}"),
        table("industry", lambda r: r["industry"]),
        table("channel", lambda r: r["channel"]),
        table("style", lambda r: r["style"]),
    ])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["draw", "assemble", "export", "stats"])
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--candidates", type=Path)
    ap.add_argument("--exclude", type=Path)
    args = ap.parse_args()
    try:
        if args.command == "draw":
            rows = draw(args.shared)
            _write(args.out, rows, COLUMNS)
        elif args.command == "assemble":
            rows = assemble(args.candidates, args.exclude)
            _write(args.out or CV_DIR / "items.csv", rows, COLUMNS)
        elif args.command == "stats":
            print(stats(_read(CV_DIR / "items.csv"), _read(CV_DIR / "labels_a.csv")))
            return 0
        else:
            if args.out is None or args.out.resolve().is_relative_to(REPO):
                print("build_customer_voice: --out must be a path outside the repository "
                      "(the list holds text that may not be committed)", file=sys.stderr)
                return 1
            rows = load_items(args.shared)
            random.Random(SEED).shuffle(rows)  # annotators see sources mixed
            # style and split are left out: style names (praise, sarcasm) would hint a label
            _write(args.out, rows, ["item_id", "source", "industry", "channel", "text"])
    except (OSError, ResolveError) as e:
        print(f"build_customer_voice: {e}", file=sys.stderr)
        return 1
    print(f"wrote {len(rows)} items to {args.out or CV_DIR / 'items.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
