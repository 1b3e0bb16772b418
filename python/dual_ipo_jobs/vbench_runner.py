"""Runs the real VBench (`pip install vbench`, in its own environment: it pins transformers 4.33.2 and
numpy < 2) on a folder of videos, one dimension at a time, with its scorers' weights from a local folder.
The evaluate job copies this file into its work folder and runs it with that environment's Python; it imports
nothing but vbench and the standard library (this package's own vbench.py must not shadow the real one).

    VBENCH_CACHE_DIR=/models/vbench python -m dual_ipo_jobs.vbench_runner --videos DIR --out DIR \
        --dimensions temporal_flickering,subject_consistency [--mode vbench_standard|custom_input] \
        [--prompts prompts.json] [--full-info VBench_full_info.json] [--device cuda]

Writes OUT/results.json: {dimension: {"score": aggregate, "videos": {file name: per-video value}}}.

VBench downloads a missing weight file with wget at run time; here every file a dimension needs must already
be under VBENCH_CACHE_DIR (the layout below is VBench 0.1.5's vbench/utils.py init_submodules with
local=True), and a missing one is an error naming it, before anything runs.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

# VBENCH_CACHE_DIR-relative files per dimension (vbench 0.1.5, init_submodules(local=True)).
WEIGHTS = {
    "subject_consistency": ["dino_model/facebookresearch_dino_main/hubconf.py", "dino_model/dino_vitbase16_pretrain.pth"],
    "background_consistency": ["clip_model/ViT-B-32.pt"],
    "temporal_flickering": [],
    "motion_smoothness": ["amt_model/amt-s.pth"],
    "dynamic_degree": ["raft_model/models/raft-things.pth"],
    "aesthetic_quality": ["clip_model/ViT-L-14.pt", "aesthetic_model/emb_reader/sa_0_4_vit_l_14_linear.pth"],
    "imaging_quality": ["pyiqa_model/musiq_spaq_ckpt-358bb6af.pth"],
    "object_class": ["grit_model/grit_b_densecap_objectdet.pth"],
    "multiple_objects": ["grit_model/grit_b_densecap_objectdet.pth"],
    "color": ["grit_model/grit_b_densecap_objectdet.pth"],
    "spatial_relationship": ["grit_model/grit_b_densecap_objectdet.pth"],
    "human_action": ["umt_model/l16_ptk710_ftk710_ftk400_f16_res224.pth"],
    "scene": ["caption_model/tag2text_swin_14m.pth"],
    "appearance_style": ["clip_model/ViT-B-32.pt"],
    "temporal_style": ["ViCLIP/ViClip-InternVid-10M-FLT.pth"],
    "overall_consistency": ["ViCLIP/ViClip-InternVid-10M-FLT.pth"],
}
# VBench's custom_input mode refuses these: their prompts carry auxiliary information (objects, colours...).
NEED_STANDARD_PROMPTS = {"object_class", "multiple_objects", "scene", "appearance_style", "color", "spatial_relationship"}


def cache_dir() -> str:
    return os.environ.get("VBENCH_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "vbench")


def missing_weights(dimensions) -> list:
    root = cache_dir()
    return [f"{d}: {os.path.join(root, rel)}" for d in dimensions for rel in WEIGHTS[d] if not os.path.exists(os.path.join(root, rel))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--videos", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dimensions", required=True)
    ap.add_argument("--mode", default="vbench_standard", choices=["vbench_standard", "custom_input"])
    ap.add_argument("--prompts", help="JSON {video file name: prompt} (custom_input)")
    ap.add_argument("--full-info", help="VBench_full_info.json (vbench_standard; default: the one in the vbench package)")
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args(argv)
    dims = [d for d in a.dimensions.split(",") if d]
    unknown = [d for d in dims if d not in WEIGHTS]
    if unknown:
        print(f"vbench_runner: unknown dimension(s) {unknown}; VBench's are {sorted(WEIGHTS)}", file=sys.stderr)
        return 2
    if a.mode == "custom_input" and NEED_STANDARD_PROMPTS & set(dims):
        print(f"vbench_runner: {sorted(NEED_STANDARD_PROMPTS & set(dims))} need VBench's own prompts (mode vbench_standard)", file=sys.stderr)
        return 2
    missing = missing_weights(dims)
    if missing:
        print("vbench_runner: scorer weights missing under VBENCH_CACHE_DIR (" + cache_dir() + "); nothing is downloaded here:\n  "
              + "\n  ".join(missing), file=sys.stderr)
        return 3
    import vbench
    from vbench import VBench

    full_info = a.full_info or os.path.join(os.path.dirname(vbench.__file__), "VBench_full_info.json")
    prompts = {}
    if a.prompts:
        with open(a.prompts, encoding="utf-8") as f:
            prompts = json.load(f)
    os.makedirs(a.out, exist_ok=True)
    bench = VBench(a.device, full_info, a.out)
    results = {}
    for d in dims:   # one at a time: a failure names its dimension, and results so far are kept
        kwargs = {"prompt_list": prompts} if a.mode == "custom_input" else {}
        bench.evaluate(videos_path=a.videos, name=d, dimension_list=[d], local=True, mode=a.mode, **kwargs)
        with open(os.path.join(a.out, f"{d}_eval_results.json"), encoding="utf-8") as f:
            score, per_video = json.load(f)[d]
        results[d] = {"score": float(score), "videos": {os.path.basename(v["video_path"]): float(v["video_results"]) for v in per_video}}
    with open(os.path.join(a.out, "results.json.tmp"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
    os.replace(os.path.join(a.out, "results.json.tmp"), os.path.join(a.out, "results.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
