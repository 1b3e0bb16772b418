"""A lightweight STAND-IN for VBench's pixel-level dimensions, for machines without VBench's scorer weights
(CI, the tiny campaign). It is NOT VBench: its figures are labelled "standin" wherever they go and must not be
compared with published VBench numbers.

Each stand-in follows its VBench dimension's formula with the learned model replaced by a pixel computation:

- temporal_flickering: VBench's own computation, which needs no model: (255 - mean over consecutive frame
  pairs of the mean absolute difference of uint8 pixels) / 255. Equal to vbench.temporal_flickering on the
  same frames (tests/test_stage_jobs.py checks it against the real package when a VBench environment exists).
- subject_consistency / background_consistency: VBench's (cos(f_0, f_t) + cos(f_t-1, f_t)) / 2 averaged over
  t >= 1, with features = the frame's mean-centred pixels (subject: full resolution; background: 4x4-pooled)
  in place of DINO / CLIP features.
- motion_smoothness: VBench's (255 - MAE between each odd frame and its interpolation from its neighbours)
  / 255, with the mean of the two neighbours in place of the AMT interpolation network.
- dynamic_degree: the share of videos judged dynamic, with "the mean of the top 5% absolute frame differences
  exceeds 0.1" in place of RAFT optical flow magnitudes.

The other 11 dimensions (aesthetic and imaging quality, and every semantic one) need learned models: they are
not measured, and the aggregation (vbench.fill_unmeasured) leaves them out of Quality and Semantic.
"""
from __future__ import annotations

from typing import Dict

import numpy as np

DIMENSIONS = ("temporal_flickering", "subject_consistency", "background_consistency", "motion_smoothness", "dynamic_degree")


def _u8(video: np.ndarray) -> np.ndarray:
    return np.round(255 * np.clip(video, 0, 1)).astype(np.uint8)


def temporal_flickering(video: np.ndarray) -> float:
    f = _u8(video).astype(np.float32)
    return float((255.0 - np.mean([np.mean(np.abs(f[t + 1] - f[t])) for t in range(len(f) - 1)])) / 255.0)


def _consistency(features: np.ndarray) -> float:
    x = features.reshape(len(features), -1)
    x = x - x.mean(1, keepdims=True)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)
    sims = [(max(0.0, float(x[0] @ x[t])) + max(0.0, float(x[t - 1] @ x[t]))) / 2 for t in range(1, len(x))]
    return float(np.mean(sims))


def subject_consistency(video: np.ndarray) -> float:
    return _consistency(np.asarray(video, np.float32))


def background_consistency(video: np.ndarray) -> float:
    v = np.asarray(video, np.float32)
    T, H, W, C = v.shape
    h, w = max(1, H // 4), max(1, W // 4)
    pooled = v[:, :h * 4, :w * 4].reshape(T, h, 4, w, 4, C).mean((2, 4))
    return _consistency(pooled)


def motion_smoothness(video: np.ndarray) -> float:
    f = _u8(video).astype(np.float32)
    errs = [np.mean(np.abs(f[t] - (f[t - 1] + f[t + 1]) / 2)) for t in range(1, len(f) - 1, 2)]
    return float((255.0 - np.mean(errs)) / 255.0) if errs else 1.0


def is_dynamic(video: np.ndarray) -> float:
    v = np.asarray(video, np.float32)
    diffs = np.abs(np.diff(v, axis=0)).reshape(len(v) - 1, -1)
    top = max(1, int(round(0.05 * diffs.shape[1])))
    return float(np.mean(np.sort(diffs, axis=1)[:, -top:]) > 0.1)


def score_video(video: np.ndarray) -> Dict[str, float]:
    """One video's stand-in values, keyed by the VBench dimension each stands in for."""
    if video.ndim != 4 or video.shape[0] < 2:
        raise ValueError(f"standin scorer: need a (T >= 2, H, W, 3) video, got {video.shape}")
    return {"temporal_flickering": temporal_flickering(video), "subject_consistency": subject_consistency(video),
            "background_consistency": background_consistency(video), "motion_smoothness": motion_smoothness(video),
            "dynamic_degree": is_dynamic(video)}
