"""Self-consistency voting and the paired jackknife gain error, as lib/core (standard library only)."""
import math
from typing import Callable, NamedTuple, Optional, Sequence


class Vote(NamedTuple):
    answer: str     # the modal answer; a tie goes to the answer seen first
    share: float    # V(top) / k
    margin: float   # (V(top) - V(lowest answer present)) / k: ScPO's weight
    tied: bool


def self_consistency_vote(answers: Sequence[str]) -> Vote:
    """Section 3.2, "counting answer frequencies": majority vote over k reasoning paths (Wang et al. 2022)."""
    k = len(answers)
    if k == 0:
        raise ValueError("self_consistency_vote: no answers (k = 0)")
    votes: dict = {}
    for a in answers:   # dicts keep first-seen order: the tie rule of lib/core
        votes[a] = votes.get(a, 0) + 1
    top = max(votes.values())
    answer = next(a for a, v in votes.items() if v == top)
    return Vote(answer, top / k, (top - min(votes.values())) / k, list(votes.values()).count(top) > 1)


class PairedGain(NamedTuple):
    gain: float
    standard_error: float
    n: int


def jackknife_gain(clusters: int, difference: Callable[[Optional[int]], float]) -> PairedGain:
    """Delete-one-cluster jackknife of a paired difference (candidate - baseline on the same prompts and
    seeds); difference(c) recomputes it without cluster c, difference(None) on all. SE^2 = (n-1)/n sum (d_c - mean d)^2."""
    if clusters < 2:
        raise ValueError(f"jackknife_gain: need at least 2 clusters, got {clusters}")
    gain = difference(None)
    partial = [difference(c) for c in range(clusters)]
    if not all(math.isfinite(d) for d in [gain, *partial]):
        raise ValueError("jackknife_gain: a difference is not a finite number")
    mean = sum(partial) / clusters
    return PairedGain(gain, math.sqrt((clusters - 1) / clusters * sum((d - mean) ** 2 for d in partial)), clusters)
