"""Preference data and agreement as lib/core (preferences.ts, agreement.ts), checked against it on
tests/golden/losses.json. Standard library only.

build_preference_pairs: section 4.1's top-1 vs bottom-1 per prompt; split_for_kto: eq. 8's desirable /
undesirable points; pairwise_agreement / pointwise_agreement: appendix C's critic-human agreement.
"""
import math
from typing import List, NamedTuple, Optional, Sequence


def _finite(fn: str, what: str, x) -> None:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise ValueError(f"{fn}: {what} must be a finite number, got {x!r}")


def build_preference_pairs(groups: Sequence[dict], min_gap: float = 0.0) -> List[dict]:
    """groups: [{prompt, candidates: [{id, score}]}]. Per prompt, candidates ranked by score descending then id
    ascending; chosen = first, rejected = last; kept iff gap > 0 and gap >= min_gap."""
    fn = "build_preference_pairs"
    _finite(fn, "min_gap", min_gap)
    if min_gap < 0:
        raise ValueError(f"{fn}: min_gap must be >= 0, got {min_gap}")
    pairs = []
    for g in groups:
        ids = set()
        for c in g["candidates"]:
            _finite(fn, f"score of {c['id']!r} (prompt {g['prompt']!r})", c["score"])
            if c["id"] in ids:
                raise ValueError(f"{fn}: duplicate candidate id {c['id']!r} for prompt {g['prompt']!r}")
            ids.add(c["id"])
        ranked = sorted(g["candidates"], key=lambda c: (-c["score"], c["id"]))
        if len(ranked) < 2:
            continue
        w, l = ranked[0], ranked[-1]
        gap = w["score"] - l["score"]
        if gap <= 0 or gap < min_gap:
            continue
        pairs.append({"prompt": g["prompt"], "chosen": w["id"], "rejected": l["id"], "chosenScore": w["score"],
                      "rejectedScore": l["score"], "gap": gap})
    return pairs


def split_for_kto(samples: Sequence[dict], threshold: float, margin: float = 0.0) -> dict:
    """desirable iff score > threshold + margin, undesirable iff score < threshold - margin, else neutral (input order kept)."""
    fn = "split_for_kto"
    _finite(fn, "threshold", threshold)
    _finite(fn, "margin", margin)
    if margin < 0:
        raise ValueError(f"{fn}: margin must be >= 0, got {margin}")
    out = {"desirable": [], "undesirable": [], "neutral": []}
    for s in samples:
        _finite(fn, "score", s["score"])
        key = "desirable" if s["score"] > threshold + margin else "undesirable" if s["score"] < threshold - margin else "neutral"
        out[key].append(s)
    return out


class Agreement(NamedTuple):
    agreement: float   # agreed / counted; NaN when nothing is counted (the critic gate rejects it)
    agreed: int
    counted: int
    excluded: int


def pairwise_agreement(critic: Sequence[str], human: Sequence[str]) -> Agreement:
    """Human ties are excluded; a critic tie on a human-decided pair is a miss."""
    fn = "pairwise_agreement"
    if len(critic) != len(human):
        raise ValueError(f"{fn}: critic has {len(critic)} labels but human has {len(human)}")
    agreed = counted = 0
    for i, (c, h) in enumerate(zip(critic, human)):
        for name, v in (("critic", c), ("human", h)):
            if v not in ("A", "B", "tie"):
                raise ValueError(f"{fn}: {name}[{i}] is {v!r}, expected 'A', 'B' or 'tie'")
        if h == "tie":
            continue
        counted += 1
        agreed += c == h
    return Agreement(agreed / counted if counted else math.nan, agreed, counted, len(critic) - counted)


def pointwise_agreement(critic: Sequence, human: Sequence[Optional[object]]) -> Agreement:
    """Exact match of grades over the items the human labelled (None = unlabelled, excluded)."""
    fn = "pointwise_agreement"
    if len(critic) != len(human):
        raise ValueError(f"{fn}: critic has {len(critic)} labels but human has {len(human)}")
    agreed = counted = 0
    for i, (c, h) in enumerate(zip(critic, human)):
        if h is None:
            continue
        if c is None:
            raise ValueError(f"{fn}: critic[{i}] is missing")
        counted += 1
        agreed += c == h
    return Agreement(agreed / counted if counted else math.nan, agreed, counted, len(critic) - counted)
