"""Stage `bootstrap` (round 0): the base generator and critic from local model folders, the human seed and
test sets from a local annotation file, the real videos and the evaluation prompts.

    command: [python, -m, dual_ipo_jobs.jobs.bootstrap]

params:  baseModel (required: a local CogVideoX folder), criticModel (required: a local Qwen2-VL folder)
         annotations (required): JSONL, one human judgement a line, videos relative to the file:
           pairwise  {prompt, dimension, videoA, videoB, preferred: "A" | "B" | "tie", rationale?, split?}
           pointwise {prompt, dimension, video, grade: "good" | "normal" | "bad", split?}
           dimension: consistency | motion | faithfulness (App. A.2); split: "seed" | "test"
         testShare 0.5: rows without a split go to the test set by prompt (a seeded hash), never half a prompt
         realVideos (optional): JSONL {prompt, video} (the paper's D_real, eqs. 7/10); absent: an empty set
         evalPromptsFile (required): a JSON list of strings or {id, text}, VBench's VBench_full_info.json
           ({prompt_en, dimension}), or a text file with one prompt a line
         evalPrompts (the config's generation.evalPrompts): how many of them (the first N); evalSamplesPerPrompt 5
         warmStartSteps 0: the CoT warm start of the critic (section 4.1) on the seed set's pairwise rows with a
           rationale: LoRA steps maximising log p(rationale + "Answer: <preferred>"); 0 keeps the base critic
           (then the pceFilter's rewards are all 0 and its strict PCE > 0.5 filter keeps nothing)
         warmStartLearningRate 1e-4, loraRank 8, loraAlpha 16, frames 16, seed 0, dtype, device
         tiny false: for tests and the tiny campaign only: build whatever of baseModel, criticModel (tiny random
           models from configs, dual_ipo_jobs.tiny) and annotations, realVideos, evalPromptsFile (synthetic
           data, tiny_data) does not exist yet at the paths given, then proceed as with real ones
outputs: generator = generator.tar (generator.json: no adapters, the base's path and config digest)
         critic = critic.tar (the warm-start adapter, if any), humanSeed / humanTest = <name>.tar
         (pairwise.jsonl, pointwise.jsonl, videos/), realVideos = realVideos.tar (real-videos.jsonl, videos/),
         evalPrompts = evalPrompts.json {format, prompts: [{id, text, dimensions?}], samplesPerPrompt, seed}
metrics: humanSeedPairs, humanTestPairs, humanSeedPoints, humanTestPoints, realVideos, evalPrompts,
         warmStartSteps, warmStartLossFirst, warmStartLossFinal
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil

from dual_ipo_jobs import Job
from dual_ipo_jobs.cogvideox import config_digest, job_dir, stdout_to_stderr, write_generator
from dual_ipo_jobs.critic import DIMENSIONS, POINTWISE, write_critic
from dual_ipo_jobs.videos import read_jsonl

EVAL_FORMAT = "dual-ipo/video-eval-prompts@1"


def model_folder(p: dict, name: str, marker: str) -> str:
    folder = p.get(name)
    if not isinstance(folder, str) or not os.path.isfile(os.path.join(folder, marker)):
        raise ValueError(f"params.{name} must be a local model folder with {marker}; got {folder!r}")
    return os.path.abspath(folder)


def read_annotations(path: str, test_share: float, seed: int) -> dict:
    """{"seed": {"pairwise": [...], "pointwise": [...]}, "test": ...}, rows checked by line number."""
    base = os.path.dirname(os.path.abspath(path))
    sets = {s: {"pairwise": [], "pointwise": []} for s in ("seed", "test")}
    for n, row in enumerate(read_jsonl(path), 1):
        where = f"{path} line {n}"
        if row.get("dimension") not in DIMENSIONS or not isinstance(row.get("prompt"), str):
            raise ValueError(f"{where}: need a prompt and a dimension in {sorted(DIMENSIONS)}; got {row}")
        if "videoA" in row:
            kind, videos = "pairwise", ("videoA", "videoB")
            if row.get("preferred") not in ("A", "B", "tie"):
                raise ValueError(f"{where}: preferred must be A, B or tie; got {row.get('preferred')!r}")
        elif "video" in row:
            kind, videos = "pointwise", ("video",)
            if row.get("grade") not in POINTWISE:
                raise ValueError(f"{where}: grade must be one of {POINTWISE}; got {row.get('grade')!r}")
        else:
            raise ValueError(f"{where}: a row is pairwise (videoA, videoB, preferred) or pointwise (video, grade)")
        for key in videos:
            full = row[key] if os.path.isabs(row[key]) else os.path.join(base, row[key])
            if not os.path.isfile(full):
                raise ValueError(f"{where}: {key} {row[key]} does not exist")
            row[key] = full
        split = row.pop("split", None)
        if split is None:
            h = int.from_bytes(hashlib.sha256(f"{seed}/{row['prompt']}".encode()).digest()[:8], "little") / 2 ** 64
            split = "test" if h < test_share else "seed"
        if split not in sets:
            raise ValueError(f"{where}: split must be seed or test; got {split!r}")
        sets[split][kind].append(row)
    return sets


def copy_videos(rows: list, keys: tuple, folder: str) -> None:
    """Each row's videos into folder/videos/ (named by content), the rows pointing at them relatively."""
    os.makedirs(os.path.join(folder, "videos"), exist_ok=True)
    for row in rows:
        for key in keys:
            if key not in row:
                continue
            with open(row[key], "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()[:16]
            rel = f"videos/{digest}{os.path.splitext(row[key])[1]}"
            if not os.path.exists(os.path.join(folder, rel)):
                shutil.copyfile(row[key], os.path.join(folder, rel))
            row[key] = rel


def write_jsonl(path: str, rows: list) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)


def read_eval_prompts(path: str, count, samples: int, seed: int) -> dict:
    if path is None or not os.path.isfile(path):
        raise ValueError(f"params.evalPromptsFile must be a local file of evaluation prompts; got {path!r}")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        raw = json.loads(text)
    except ValueError:
        raw = [line.strip() for line in text.splitlines() if line.strip()]
    if isinstance(raw, dict):
        raw = raw.get("prompts")
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{path}: no prompts (a JSON list, VBench_full_info.json or one prompt a line)")
    prompts = []
    for i, p in enumerate(raw):
        if isinstance(p, str):
            prompts.append({"id": f"e{i}", "text": p})
        elif isinstance(p, dict) and isinstance(p.get("prompt_en"), str):   # VBench_full_info.json
            prompts.append({"id": f"e{i}", "text": p["prompt_en"], "dimensions": p.get("dimension", [])})
        elif isinstance(p, dict) and isinstance(p.get("text"), str):
            prompts.append({"id": str(p.get("id", f"e{i}")), "text": p["text"]})
        else:
            raise ValueError(f"{path}: prompt {i} ({p!r}) is neither a string, {{id, text}} nor {{prompt_en, dimension}}")
    if count is not None:
        prompts = prompts[:int(count)]
    return {"format": EVAL_FORMAT, "prompts": prompts, "samplesPerPrompt": samples, "seed": seed}


def warm_start(job: Job, p: dict, critic_model: str, rows: list, folder: str, work: str):
    """Section 4.1's CoT warm start: a LoRA SFT of the critic on the human seed set's rationales and answers."""
    import torch
    from peft import LoraConfig, get_peft_model

    from dual_ipo_jobs.critic import LORA_TARGETS, Critic, answer_text, frames, load_critic, pairwise_question
    from dual_ipo_jobs.videos import VideoLoader

    steps = int(p.get("warmStartSteps", 0))
    data = [r for r in rows if r["preferred"] in ("A", "B")]
    if not data:
        raise ValueError("warmStartSteps > 0 but the seed set has no decided pairwise rows to warm-start on")
    model, processor = load_critic(critic_model, (), p.get("dtype", "float32"), p.get("device", "cpu"))
    torch.manual_seed(int(p.get("seed", 0)))
    model = get_peft_model(model, LoraConfig(r=int(p.get("loraRank", 8)), lora_alpha=int(p.get("loraAlpha", 16)),
                                             target_modules=LORA_TARGETS, exclude_modules=r".*visual.*"))
    critic, load, n = Critic(model, processor), VideoLoader(folder), int(p.get("frames", 16))
    examples = [(pairwise_question(r["prompt"], r["dimension"]), [frames(load(r["videoA"]), n), frames(load(r["videoB"]), n)],
                 answer_text(r.get("rationale", ""), r["preferred"])) for r in data]
    opt = torch.optim.AdamW([x for x in model.parameters() if x.requires_grad], lr=float(p.get("warmStartLearningRate", 1e-4)))
    model.train()
    losses = []
    for step in range(steps):
        q, vids, response = examples[step % len(examples)]
        loss = -critic.response_logp(q, vids, response)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss))
        job.progress(step + 1, steps, f"critic warm start {step + 1}/{steps} nll={losses[-1]:.3f}")
    adapter = os.path.join(work, "warm-start")
    shutil.rmtree(adapter, ignore_errors=True)
    model.save_pretrained(adapter)
    return adapter, losses


def build_tiny(job: Job, p: dict) -> None:
    """Tiny random models and synthetic data where the params point at nothing yet (saved, then loaded as real ones)."""
    from dual_ipo_jobs import tiny

    for key in ("baseModel", "criticModel", "annotations", "realVideos", "evalPromptsFile"):
        if not isinstance(p.get(key), str):
            raise ValueError(f"params.tiny: params.{key} must name where the tiny {key} goes")
    if not os.path.isdir(p["baseModel"]):
        tiny.tiny_cogvideox(seed=int(p.get("seed", 0))).save_pretrained(p["baseModel"])
        job.log(f"built a tiny random CogVideoX in {p['baseModel']}")
    if not os.path.isdir(p["criticModel"]):
        model, processor = tiny.tiny_qwen2vl(seed=int(p.get("seed", 0)))
        model.save_pretrained(p["criticModel"])
        processor.save_pretrained(p["criticModel"])
        job.log(f"built a tiny random Qwen2-VL in {p['criticModel']}")
    if not all(os.path.exists(p[k]) for k in ("annotations", "realVideos", "evalPromptsFile")):
        made = tiny.tiny_data(os.path.dirname(os.path.abspath(p["annotations"])), seed=int(p.get("seed", 0)))
        for key, path in made.items():
            if os.path.abspath(p[key]) != path:
                raise ValueError(f"params.tiny: params.{key} must be {path} (tiny_data writes its files beside the annotations)")
        job.log(f"wrote the synthetic tiny data in {os.path.dirname(made['annotations'])}")


def main() -> None:
    with Job() as job, stdout_to_stderr(job):
        p = job.params
        seed = int(p.get("seed", 0))
        if p.get("tiny"):
            build_tiny(job, p)
        base_model = model_folder(p, "baseModel", "model_index.json")
        critic_model = model_folder(p, "criticModel", "config.json")
        if not isinstance(p.get("annotations"), str):
            raise ValueError("params.annotations must name a local JSONL file of human judgements")
        sets = read_annotations(p["annotations"], float(p.get("testShare", 0.5)), seed)
        evaluation = read_eval_prompts(p.get("evalPromptsFile"), p.get("evalPrompts"), int(p.get("evalSamplesPerPrompt", 5)), seed)
        work = os.path.join(job_dir(job), "bootstrap-work")
        os.makedirs(work, exist_ok=True)

        metrics = {}
        for split, name in (("seed", "humanSeed"), ("test", "humanTest")):
            s = sets[split]
            with job.output_dir(name, output=name, archive=True, summary={"pairwise": len(s["pairwise"]), "pointwise": len(s["pointwise"])}) as d:
                copy_videos(s["pairwise"], ("videoA", "videoB"), d)
                copy_videos(s["pointwise"], ("video",), d)
                write_jsonl(os.path.join(d, "pairwise.jsonl"), s["pairwise"])
                write_jsonl(os.path.join(d, "pointwise.jsonl"), s["pointwise"])
            metrics[f"{name}Pairs"], metrics[f"{name}Points"] = len(s["pairwise"]), len(s["pointwise"])
        if not sets["test"]["pairwise"]:
            raise ValueError(f"{p['annotations']}: the human test set has no pairwise rows: the critic gate would have nothing to measure")

        real = []
        if p.get("realVideos"):
            real = read_jsonl(p["realVideos"])
            base = os.path.dirname(os.path.abspath(p["realVideos"]))
            for n, r in enumerate(real, 1):
                if not isinstance(r.get("prompt"), str) or not isinstance(r.get("video"), str):
                    raise ValueError(f"{p['realVideos']} line {n}: need {{prompt, video}}")
                r["video"] = r["video"] if os.path.isabs(r["video"]) else os.path.join(base, r["video"])
                if not os.path.isfile(r["video"]):
                    raise ValueError(f"{p['realVideos']} line {n}: video {r['video']} does not exist")
        with job.output_dir("realVideos", output="realVideos", archive=True, summary={"videos": len(real)}) as d:
            copy_videos(real, ("video",), d)
            write_jsonl(os.path.join(d, "real-videos.jsonl"), real)
        job.write_json("evalPrompts.json", evaluation, output="evalPrompts", summary={"prompts": len(evaluation["prompts"])})

        with job.output_dir("generator", output="generator", archive=True) as d:
            write_generator(d, [], None, base={"path": base_model, "configDigest": config_digest(base_model)})
        adapter, losses = None, []
        if int(p.get("warmStartSteps", 0)) > 0:
            adapter, losses = warm_start(job, p, critic_model, sets["seed"]["pairwise"], os.path.join(job.output_root, "humanSeed"), work)
        with job.output_dir("critic", output="critic", archive=True, summary={"adapters": 1 if adapter else 0}) as d:
            write_critic(d, [], adapter, base={"path": critic_model, "configDigest": config_digest(critic_model)})
        metrics.update(realVideos=len(real), evalPrompts=len(evaluation["prompts"]), warmStartSteps=len(losses))
        if losses:
            metrics.update(warmStartLossFirst=losses[0], warmStartLossFinal=losses[-1])
        job.finish(metrics=metrics)


if __name__ == "__main__":
    main()
