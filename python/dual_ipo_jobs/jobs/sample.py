"""Stage `sample`: text-to-video with CogVideoX (diffusers' CogVideoXPipeline), candidatesPerPrompt
videos per prompt, written as mp4 with an index.

    command: [python, -m, dual_ipo_jobs.jobs.sample]

inputs:  generator (optional): a dual-ipo/cogvideox-lora@1 artifact; without it, the base model
         prompts (optional): JSON, a list of strings or {id, text} objects, or {"prompts": [...]}
params:  baseModel (required, a local CogVideoX folder), prompts (when there is no prompts input), or promptsFile:
         a caption pool (JSON list of strings or {id, text}, or one prompt a line) of which round r samples
         promptsPerRound (the config's generation.promptsPerRound) from (r - 1) * promptsPerRound on,
         candidatesPerPrompt 1, seed 0, numInferenceSteps 50, guidanceScale 6, numFrames 49,
         height 480, width 720, maxSequenceLength 226, fps 8, dtype "float32" (bfloat16 on GPU),
         device "cpu" ("cuda")
output:  samples = samples.tar: index.json + videos/<prompt>-c<k>.mp4

index.json: {"format": "dual-ipo/video-index@1", "fps", "numFrames", "height", "width",
             "videos": [{"id": "<prompt id>/c<k>", "promptId", "prompt", "candidate", "seed", "path"}]}

Each video has its own seed (seed, prompt, candidate), and finished videos are kept in the job folder,
so a job stopped by SIGTERM resumes at the next video and produces the same files as an
uninterrupted run.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil

from dual_ipo_jobs import Job
from dual_ipo_jobs.cogvideox import job_dir, load_pipeline, read_generator, stdout_to_stderr

INDEX_FORMAT = "dual-ipo/video-index@1"


def video_seed(seed: int, prompt_id: str, candidate: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}/{prompt_id}/{candidate}".encode()).digest()[:7], "little")


def prompt_pool(path: str, per_round, round_: int) -> list:
    """The round's window of a caption pool (a JSON list or one prompt a line): promptsPerRound prompts from
    (round - 1) * promptsPerRound on, wrapping around, so each round samples new captions while the pool lasts."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        pool = json.loads(text)
    except ValueError:
        pool = [line.strip() for line in text.splitlines() if line.strip()]
    if isinstance(pool, dict):
        pool = pool.get("prompts")
    if not isinstance(pool, list) or not pool:
        raise ValueError(f"params.promptsFile {path}: no prompts (a JSON list or one prompt a line)")
    pool = [p if isinstance(p, dict) else {"id": f"t{i}", "text": p} for i, p in enumerate(pool)]
    n = min(len(pool), int(per_round or len(pool)))
    start = (max(1, round_) - 1) * n
    return [pool[(start + i) % len(pool)] for i in range(n)]


def read_prompts(job) -> list:
    if "prompts" in job.inputs:
        raw = job.read_json("prompts")
    elif job.params.get("promptsFile"):
        raw = prompt_pool(job.params["promptsFile"], job.params.get("promptsPerRound"), job.round)
    else:
        raw = job.params.get("prompts")
    if isinstance(raw, dict):
        raw = raw.get("prompts")
    if not isinstance(raw, list) or not raw:
        raise ValueError("no prompts: give params.prompts or a prompts input (a list of strings or {id, text})")
    out = []
    for i, p in enumerate(raw):
        text = p if isinstance(p, str) else p.get("text") if isinstance(p, dict) else None
        if not isinstance(text, str) or not text:
            raise ValueError(f"prompt {i}: {p!r} has no text")
        pid = str(p.get("id", f"p{i}")) if isinstance(p, dict) else f"p{i}"
        out.append({"id": pid, "text": text})
    if len({p["id"] for p in out}) != len(out):
        raise ValueError("prompt ids are not unique")
    return out


def main() -> None:
    with Job() as job, stdout_to_stderr(job):
        import torch
        from dual_ipo_jobs.videos import write_mp4

        p = job.params
        frames, height, width = int(p.get("numFrames", 49)), int(p.get("height", 480)), int(p.get("width", 720))
        k, fps = int(p.get("candidatesPerPrompt", 1)), int(p.get("fps", 8))
        prompts = read_prompts(job)
        work = os.path.join(job_dir(job), "sample-work")
        os.makedirs(os.path.join(work, "videos"), exist_ok=True)
        _, adapters = read_generator(job.inputs.get("generator", {}).get("path"), work)
        pipe = load_pipeline(p.get("baseModel"), adapters, p.get("dtype", "float32"), p.get("device", "cpu"))

        entries = []
        todo = [(pr, c) for pr in prompts for c in range(k)]
        for n, (pr, c) in enumerate(todo):
            name = f"{pr['id'].replace('/', '_')}-c{c}.mp4"
            path = os.path.join(work, "videos", name)
            seed = video_seed(int(p.get("seed", 0)), pr["id"], c)
            if not os.path.exists(path):   # written atomically below, so present means complete
                out = pipe(prompt=pr["text"], num_frames=frames, height=height, width=width,
                           num_inference_steps=int(p.get("numInferenceSteps", 50)), guidance_scale=float(p.get("guidanceScale", 6)),
                           max_sequence_length=int(p.get("maxSequenceLength", 226)), output_type="np",
                           generator=torch.Generator().manual_seed(seed))
                tmp = path + ".tmp.mp4"
                write_mp4(tmp, out.frames[0], fps=fps)
                os.replace(tmp, path)
            entries.append({"id": f"{pr['id']}/c{c}", "promptId": pr["id"], "prompt": pr["text"], "candidate": c,
                            "seed": seed, "path": f"videos/{name}"})
            job.progress(n + 1, len(todo), f"video {n + 1}/{len(todo)}", checkpoint={"videos": n + 1})

        index = {"format": INDEX_FORMAT, "fps": fps, "numFrames": frames, "height": height, "width": width, "videos": entries}
        with job.output_dir("samples", output="samples", archive=True, summary={"videos": len(entries)}) as d:
            os.makedirs(os.path.join(d, "videos"))
            for e in entries:   # not the folder: it may hold a half-written temp file of a killed run
                shutil.copyfile(os.path.join(work, e["path"]), os.path.join(d, e["path"]))
            with open(os.path.join(d, "index.json"), "w", encoding="utf-8") as f:
                json.dump(index, f, indent=2)
        job.finish(metrics={"videos": len(entries), "prompts": len(prompts)})


if __name__ == "__main__":
    main()
