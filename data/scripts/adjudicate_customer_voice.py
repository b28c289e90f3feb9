"""Adjudication of the customer-voice set: where passes A and B disagree, the label the
guideline supports (lead engineer, 2026-11-29); writes data/sentiment/customer_voice/gold.csv.

    python data/scripts/adjudicate_customer_voice.py   (from the repository root)
"""

import csv
from pathlib import Path
D = Path("data/sentiment/customer_voice")
A = "A"; B = "B"
# item_id -> which pass the guideline supports (lead engineer's adjudication, 2026-11-29)
choice = {
 # discomfort with an assigned seat is a problem affecting the customer now (rule 17)
 **{i: B for i in """cv-md-05af010a cv-md-0b6c82bc cv-md-1a8b0fae cv-md-2027a417 cv-md-253cf435
 cv-md-2e045d2b cv-md-4fd89587 cv-md-6cffd68c cv-md-7f7708f1 cv-md-8ee41062 cv-md-991d70b1
 cv-md-bffcef72 cv-md-d1cd4d79 cv-md-d53f51d6 cv-md-dd2739d9 cv-md-df03aab6 cv-md-e1ae7351
 cv-md-e3f38306 cv-md-e7873c2d""".split()},
 # warm closings ("have a nice day", "no thanks, have a nice day, bye") are positive (rule 18)
 **{i: B for i in """cv-md-190b0450 cv-md-2b174e3a cv-md-39565e7f cv-md-91d70961 cv-md-b9480c0e
 cv-md-c60489bb cv-md-d87e5015 cv-md-e720edb4""".split()},
 "cv-md-251a3914": A,   # "awesome ..." satisfaction
 "cv-md-4e1c3b90": B, "cv-md-525852c6": B, "cv-md-9fcb0a1e": B, "cv-md-ac6d4f5a": B,
 "cv-md-ad6ecf17": B, "cv-md-d0710e0f": B,   # thanks/praise + a new request: the request is the point
 "cv-md-8f4d2888": A,   # thanks + relief about the fix ("more comfortable for me")
 "cv-md-56cd8bec": B, "cv-us-ff04551c": B,   # plain correction, no irritation (v1 rule)
 "cv-md-5c5a5548": B,   # troubleshooting a crash presupposes the problem (rule 9)
 "cv-md-69006175": B,   # impatience
 "cv-md-d02214fa": A, "cv-md-f83249b6": A,   # "still waiting": factual failure (rule 10)
 "cv-tw-e2cf0022": B,   # dominant feeling: praise of the old phone's durability
 "cv-us-0ddd6382": A,   # gives up on the task; thanks does not undo it (rules 6, 12)
 "cv-us-303b4097": A,   # grudging acceptance, not relief
 "cv-us-38def712": B, "cv-us-b90b8392": B,   # a decline with thanks is neutral
 "cv-us-3ebfbd6e": A,   # "still need": the bot failed to deliver (rule 10)
 "cv-us-5757df8e": A,   # doubting the agent, "please check again": irritation
 "cv-us-78e980ed": A,   # "just relax": irritation with the bot
 "cv-us-9c9b68cb": A,   # urgency (v1)
 "cv-w-bnk-0180": B,    # a broken card: a problem hurting them
 "cv-w-food-0074": B, "cv-w-ret-0061": B, "cv-w-tel-0110": B,   # rule 9: the question presupposes their problem
 "cv-w-utl-0097": A,    # arrears: hardship (v1)
}
a = {r["item_id"]: r["label"] for r in csv.DictReader(open(D / "labels_a.csv"))}
b = {r["item_id"]: r["label"] for r in csv.DictReader(open(D / "labels_b.csv"))}
items = {r["item_id"]: r for r in csv.DictReader(open(D / "items.csv"))}
dis = {i for i in a if a[i] != b[i]}
assert dis == set(choice), (dis - set(choice), set(choice) - dis)
with open(D / "gold.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["item_id", "label", "adjudicated", "split"])
    for i in sorted(a):
        lab = a[i] if a[i] == b[i] else (a[i] if choice[i] == A else b[i])
        w.writerow([i, lab, str(i in dis).lower(), items[i]["split"]])
print(len(dis), "adjudicated; A kept", sum(v == A for v in choice.values()))
