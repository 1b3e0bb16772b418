"""VBench's Total / Quality / Semantic from its 16 dimension scores, as lib/core/vbench.ts (Vchitect/VBench
scripts/constant.py and cal_final_score.py), checked against it on tests/golden/losses.json. Standard library only.

    vbench_scores({"subject_consistency": 0.96, ...})   # -> {"total", "quality", "semantic"}, each on 0-100
"""
import math
from typing import Dict, Mapping, Optional

QUALITY = ("subject_consistency", "background_consistency", "temporal_flickering", "motion_smoothness",
           "aesthetic_quality", "imaging_quality", "dynamic_degree")
SEMANTIC = ("object_class", "multiple_objects", "human_action", "color", "spatial_relationship", "scene",
            "appearance_style", "temporal_style", "overall_consistency")
DIMENSIONS = QUALITY + SEMANTIC
# NORMALIZE_DIC: the empirical (min, max) of each raw score.
NORMALIZE: Dict[str, tuple] = {
    "subject_consistency": (0.1462, 1.0), "background_consistency": (0.2615, 1.0), "temporal_flickering": (0.6293, 1.0),
    "motion_smoothness": (0.706, 0.9975), "dynamic_degree": (0, 1), "aesthetic_quality": (0, 1), "imaging_quality": (0, 1),
    "object_class": (0, 1), "multiple_objects": (0, 1), "human_action": (0, 1), "color": (0, 1), "spatial_relationship": (0, 1),
    "scene": (0, 0.8222), "appearance_style": (0.0009, 0.2855), "temporal_style": (0, 0.364), "overall_consistency": (0, 0.364),
}
WEIGHT = {d: 0.5 if d == "dynamic_degree" else 1.0 for d in DIMENSIONS}   # DIM_WEIGHT


def _normalised(d: str, s: float) -> float:
    lo, hi = NORMALIZE[d]
    return (s - lo) / (hi - lo)


def vbench_scores(dims: Mapping[str, float]) -> Dict[str, float]:
    """n_d = W_d (s_d - Min_d) / (Max_d - Min_d); Quality = sum_Q n_d / sum_Q W_d; Semantic = sum_S n_d / 9;
    Total = (4 Quality + Semantic) / 5; all x100. No clipping. Every dimension is required, as a raw score in [0, 1]."""
    for key in dims:
        if key not in NORMALIZE:
            raise ValueError(f"vbench_scores: unknown dimension {key!r} (expected VBench's snake_case names, e.g. subject_consistency)")
    for d in DIMENSIONS:
        if d not in dims:
            raise ValueError(f"vbench_scores: missing dimension {d}")
        s = dims[d]
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s) or not 0 <= s <= 1:
            raise ValueError(f"vbench_scores: {d} must be a raw score in [0, 1], got {s!r}")

    def weighted(group):
        return sum(_normalised(d, dims[d]) * WEIGHT[d] for d in group) / sum(WEIGHT[d] for d in group)
    quality, semantic = weighted(QUALITY), weighted(SEMANTIC)
    return {"total": 100 * (4 * quality + semantic) / 5, "quality": 100 * quality, "semantic": 100 * semantic}


def fill_unmeasured(dims: Mapping[str, Optional[float]]) -> Dict[str, float]:
    """Dimensions not measured (absent or None) take the raw value that normalises to the mean of their group's
    measured ones (0 when the group has none), so they move neither Quality nor Semantic: the scores are VBench's
    restricted to the measured dimensions. lib/world's evaluator fills dimensions no video concerns the same way."""
    out = {}
    for group in (QUALITY, SEMANTIC):
        measured = [d for d in group if dims.get(d) is not None]
        mean = sum(_normalised(d, dims[d]) for d in measured) / len(measured) if measured else 0.0
        for d in group:
            lo, hi = NORMALIZE[d]
            out[d] = dims[d] if d in measured else min(1.0, max(0.0, lo + mean * (hi - lo)))
    return out
