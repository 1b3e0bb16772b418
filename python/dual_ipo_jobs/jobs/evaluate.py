"""Stage `evaluate`: the generator samples the held-out evaluation prompts at fixed seeds, the videos are scored
per VBench dimension, and the paper's formula (dual_ipo_jobs.vbench, = lib/core's vbenchScores) gives Total,
Quality and Semantic. With the champion's scores as `baseline`, the gain's paired standard error.

    command: [python, -m, dual_ipo_jobs.jobs.evaluate]

inputs:  generator (optional: a dual-ipo/cogvideox-lora@1 artifact; else the base), evalPrompts (bootstrap's
         evalPrompts.json), baseline (optional: another generator's scores.json on the same prompts)
params:  baseModel (required), scorer "vbench" | "standin", dimensions (default: VBench's 16; the standin
         measures 5), sampling as the sample job (numInferenceSteps 50, guidanceScale 6, numFrames 49, height 480,
         width 720, maxSequenceLength 226, fps 8), seed, dtype, device, keepVideos false
         scorer vbench: vbenchPython (the VBench environment's python; default $DUAL_IPO_VBENCH_PYTHON, else
         .tools/py-vbench/bin/python), vbenchCacheDir (its scorers' weights; default $VBENCH_CACHE_DIR),
         vbenchMode "vbench_standard" (VBench's own prompts, evalPromptsFile = VBench_full_info.json; needed by
         the 6 dimensions whose prompts carry auxiliary information) | "custom_input", vbenchFullInfo, vbenchDevice
output:  scores = scores.json {format "dual-ipo/video-scores@1", scorer, total, quality, semantic, dimensions,
         unmeasured, videos: [{promptId, sample, file, dimensions}]}; videos = videos.tar when keepVideos
metrics: total, quality, semantic, videos, measuredDimensions, standIn (1 for the stand-in scorer), dim_<d>;
         with a baseline: pairedGain, gainStandardError (delete-one-prompt jackknife of the Total difference)

Videos are named as VBench expects ("<prompt>-<k>.mp4") and kept in the job folder as they finish, so a resumed
job samples only what is missing. Dimensions not scored take their group's mean (vbench.fill_unmeasured) and
are listed in `unmeasured`; with every dimension scored that is VBench's formula exactly. The stand-in scorer
(dual_ipo_jobs.standin_scorer) is not VBench: its scores say scorer "standin" and metric standIn = 1.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from dual_ipo_jobs import Job
from dual_ipo_jobs.cogvideox import job_dir, load_pipeline, read_generator, stdout_to_stderr
from dual_ipo_jobs.jobs.sample import video_seed
from dual_ipo_jobs.stats import jackknife_gain
from dual_ipo_jobs.vbench import DIMENSIONS, fill_unmeasured, vbench_scores

SCORES_FORMAT = "dual-ipo/video-scores@1"
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__ + "/..")))


def video_name(text: str, k: int) -> str:
    if "/" in text or text.startswith("."):
        raise ValueError(f"evaluation prompt {text!r}: VBench names videos '<prompt>-<k>.mp4', so a prompt may not contain '/' or start with '.'")
    return f"{text}-{k}.mp4"


def totals(videos: list, skip=None) -> dict:
    """Total / Quality / Semantic of the videos' per-dimension values (each dimension's mean over the videos
    that have it), leaving out those `skip` names: the jackknife's recomputation."""
    dims = {}
    for d in DIMENSIONS:
        vals = [v["dimensions"][d] for i, v in enumerate(videos) if d in v["dimensions"] and not (skip and skip(i))]
        if vals:
            dims[d] = sum(vals) / len(vals)
    return vbench_scores(fill_unmeasured(dims))


def vbench_python(p: dict) -> str:
    path = p.get("vbenchPython") or os.environ.get("DUAL_IPO_VBENCH_PYTHON") or os.path.join(os.path.dirname(PACKAGE_ROOT), ".tools", "py-vbench", "bin", "python")
    if not os.path.isfile(path):
        raise ValueError(f"scorer vbench: no VBench environment at {path} (DUAL_IPO_SETUP_VBENCH=1 npm run setup makes .tools/py-vbench; "
                         "or set params.vbenchPython / DUAL_IPO_VBENCH_PYTHON)")
    return path


def run_vbench(job: Job, p: dict, folder: str, names: dict, dims: list, work: str) -> dict:
    """{dimension: {score, videos: {file: value}}} from the real VBench in its own environment."""
    out = os.path.join(work, "vbench")
    prompts = os.path.join(work, "vbench-prompts.json")
    with open(prompts, "w", encoding="utf-8") as f:
        json.dump(names, f)
    # The runner is run as a script copied into the work folder: neither this venv's site-packages nor this
    # package's folder (whose vbench.py would shadow the real package) may come onto VBench's sys.path.
    runner = os.path.join(work, "vbench_runner.py")
    shutil.copyfile(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "vbench_runner.py"), runner)
    cmd = [vbench_python(p), runner, "--videos", folder, "--out", out, "--dimensions", ",".join(dims),
           "--mode", p.get("vbenchMode", "vbench_standard"), "--prompts", prompts, "--device", p.get("vbenchDevice", p.get("device", "cpu"))]
    if p.get("vbenchFullInfo"):
        cmd += ["--full-info", p["vbenchFullInfo"]]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    if p.get("vbenchCacheDir"):
        env["VBENCH_CACHE_DIR"] = p["vbenchCacheDir"]
    job.log(f"scoring {len(names)} videos with VBench: {' '.join(cmd)}")
    # VBench prints progress bars and notices: all of it to our stderr, none to the contract's stdout.
    r = subprocess.run(cmd, env=env, stdout=sys.stderr, stderr=sys.stderr)
    if r.returncode != 0:
        raise RuntimeError(f"VBench exited {r.returncode} (its messages are above in stderr)")
    with open(os.path.join(out, "results.json"), encoding="utf-8") as f:
        return json.load(f)


def main() -> None:
    with Job() as job, stdout_to_stderr(job):
        import torch

        from dual_ipo_jobs.videos import read_mp4, write_mp4

        p = job.params
        scorer = p.get("scorer", "vbench")
        if scorer not in ("vbench", "standin"):
            raise ValueError(f"params.scorer must be vbench or standin, got {scorer!r}")
        from dual_ipo_jobs import standin_scorer

        dims = list(p.get("dimensions") or (DIMENSIONS if scorer == "vbench" else standin_scorer.DIMENSIONS))
        allowed = DIMENSIONS if scorer == "vbench" else standin_scorer.DIMENSIONS
        if any(d not in allowed for d in dims):
            raise ValueError(f"params.dimensions: {[d for d in dims if d not in allowed]} cannot be scored by {scorer} (it scores {list(allowed)})")
        ev = job.read_json("evalPrompts")
        if ev.get("format") != "dual-ipo/video-eval-prompts@1":
            raise ValueError(f"input evalPrompts ({job.input_path('evalPrompts')}): format {ev.get('format')!r}, expected dual-ipo/video-eval-prompts@1")
        k_per, eval_seed = int(ev["samplesPerPrompt"]), int(ev.get("seed", 0))
        todo = [(pr, k) for pr in ev["prompts"] for k in range(k_per)]
        work = os.path.join(job_dir(job), "evaluate-work")
        folder = os.path.join(work, "videos")
        os.makedirs(folder, exist_ok=True)
        _, adapters = read_generator(job.inputs.get("generator", {}).get("path"), work)
        pipe = None
        total_steps = len(todo) + 1
        for n, (pr, k) in enumerate(todo):
            path = os.path.join(folder, video_name(pr["text"], k))
            if not os.path.exists(path):   # written atomically: present means complete
                pipe = pipe or load_pipeline(p.get("baseModel"), adapters, p.get("dtype", "float32"), p.get("device", "cpu"))
                out = pipe(prompt=pr["text"], num_frames=int(p.get("numFrames", 49)), height=int(p.get("height", 480)), width=int(p.get("width", 720)),
                           num_inference_steps=int(p.get("numInferenceSteps", 50)), guidance_scale=float(p.get("guidanceScale", 6)),
                           max_sequence_length=int(p.get("maxSequenceLength", 226)), output_type="np",
                           generator=torch.Generator().manual_seed(video_seed(eval_seed, pr["id"], k)))
                write_mp4(path + ".tmp.mp4", out.frames[0], fps=int(p.get("fps", 8)))
                os.replace(path + ".tmp.mp4", path)
            job.progress(n + 1, total_steps, f"evaluation video {n + 1}/{len(todo)}", checkpoint={"videos": n + 1})
        del pipe

        names = {video_name(pr["text"], k): pr["text"] for pr, k in todo}
        videos = [{"promptId": pr["id"], "sample": k, "file": video_name(pr["text"], k), "dimensions": {}} for pr, k in todo]
        if scorer == "vbench":
            results = run_vbench(job, p, folder, names, dims, work)
            measured = {d: results[d]["score"] for d in dims}
            for v in videos:
                v["dimensions"] = {d: results[d]["videos"][v["file"]] for d in dims if v["file"] in results[d]["videos"]}
        else:
            for v in videos:
                v["dimensions"] = {d: x for d, x in standin_scorer.score_video(read_mp4(os.path.join(folder, v["file"]))).items() if d in dims}
            measured = {d: sum(v["dimensions"][d] for v in videos) / len(videos) for d in dims}
        job.progress(total_steps, total_steps, f"scored {len(videos)} videos ({scorer})")
        result = vbench_scores(fill_unmeasured(measured))
        unmeasured = [d for d in DIMENSIONS if d not in measured]

        metrics = {**result, "videos": len(videos), "measuredDimensions": len(measured), "standIn": int(scorer == "standin"),
                   **{f"dim_{d}": x for d, x in measured.items()}}
        if "baseline" in job.inputs:
            base = job.read_json("baseline")
            same = (base.get("format") == SCORES_FORMAT and base.get("evalPrompts") == job.inputs["evalPrompts"]["sha256"]
                    and base.get("scorer") == scorer and [(b["promptId"], b["sample"]) for b in base.get("videos", [])] == [(v["promptId"], v["sample"]) for v in videos])
            if not same:
                raise ValueError(f"input baseline ({job.input_path('baseline')}) did not score the same videos with the same scorer: no paired gain")
            prompt_index = {pr["id"]: i for i, pr in enumerate(ev["prompts"])}
            if len(prompt_index) >= 2:
                g = jackknife_gain(len(prompt_index), lambda c: totals(videos, (lambda i: prompt_index[videos[i]["promptId"]] == c) if c is not None else None)["total"]
                                   - totals(base["videos"], (lambda i: prompt_index[base["videos"][i]["promptId"]] == c) if c is not None else None)["total"])
                metrics.update(pairedGain=g.gain, gainStandardError=g.standard_error)
        gen = job.inputs.get("generator")
        job.write_json("scores.json", {"format": SCORES_FORMAT, "scorer": scorer,
                                       **({"note": "stand-in pixel scorer (dual_ipo_jobs.standin_scorer), NOT VBench"} if scorer == "standin" else {}),
                                       "generator": gen["sha256"] if gen else None, "evalPrompts": job.inputs["evalPrompts"]["sha256"],
                                       **result, "dimensions": measured, "unmeasured": unmeasured, "videos": videos},
                       output="scores", summary={"scorer": scorer, "total": round(result["total"], 4)})
        if p.get("keepVideos"):
            with job.output_dir("videos", output="videos", archive=True, summary={"videos": len(videos)}) as d:
                for v in videos:
                    shutil.copyfile(os.path.join(folder, v["file"]), os.path.join(d, v["file"]))
        job.finish(metrics=metrics)


if __name__ == "__main__":
    main()
