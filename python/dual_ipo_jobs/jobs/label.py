"""Stage `label`: a Qwen2-VL-class critic judges the sampled videos along the paper's three dimensions,
pointwise (good / normal / bad) and pairwise (A / B, every pair of one prompt's candidates), each with
k chain-of-thought paths and a self-consistency vote (dual_ipo_jobs.stats).

    command: [python, -m, dual_ipo_jobs.jobs.label]

inputs:  samples: the sample job's artifact (samples.tar: index.json + videos/)
         critic (optional): a dual-ipo/vlm-critic-lora@1 artifact; without it the base critic
params:  criticModel (required, a local Qwen2-VL folder), paths 5 (k), temperature 1.0, maxNewTokens 128,
         frames 16 (App. F), mode "both" | "pointwise" | "pairwise", seed 0, dtype, device;
         criticEndpoint (optional): an OpenAI-compatible URL (vLLM, e.g. http://host:8000/v1) serving the critic
         instead of loading it here (dual_ipo_jobs.openai_critic: answers parsed from the text, no log-probs;
         API key from $DUAL_IPO_CRITIC_API_KEY), criticEndpointModel (default: criticModel's folder name),
         criticEndpointServesAdapters (required true when the critic artifact has adapters)
output:  labels = labels.tar: labels.json (every path's rationale, answer and option log-probs, the votes),
         pairwise.jsonl {prompt, dimension, videoA, videoB, preferred, share, margin, rationale} and
         pointwise.jsonl {prompt, dimension, video, answer, score, share, margin}, videos/ (the judged
         videos, so the rows' relative locators resolve wherever the artifact goes)
metrics: videos, pairs, meanShare (the mean winning vote share), unanimous (share of unanimous votes),
         unvoted (judgements with no parsable answer: endpoint only; left out of the rows)

Judgements are kept in the job folder as they finish, so a resumed job starts at the next video or pair.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil

from dual_ipo_jobs import Job, atomic_write_text
from dual_ipo_jobs.cogvideox import job_dir, stdout_to_stderr, unpack
from dual_ipo_jobs.critic import (DIMENSIONS, PAIRWISE, POINT_SCORE, POINTWISE, Critic, frames, load_critic, pairwise_question,
                                  pointwise_question, read_critic)
from dual_ipo_jobs.stats import self_consistency_vote
from dual_ipo_jobs.videos import load_video


def item_seed(seed: int, key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}/{key}".encode()).digest()[:7], "little")


def endpoint_critic(job, p: dict, adapters: list):
    """The critic behind params.criticEndpoint (an OpenAI-compatible server, e.g. vLLM), or None: in-process."""
    if not p.get("criticEndpoint"):
        return None
    from dual_ipo_jobs.openai_critic import ChatClient, EndpointCritic

    if adapters and not p.get("criticEndpointServesAdapters"):
        raise ValueError(f"params.criticEndpoint serves a fixed model, but this critic has {len(adapters)} adapter(s): serve them too "
                         "(vLLM --lora-modules), name that model in criticEndpointModel and set criticEndpointServesAdapters: true")
    model = p.get("criticEndpointModel") or os.path.basename(str(p.get("criticModel", "")).rstrip("/"))
    job.log(f"critic: {model} at {p['criticEndpoint']}")
    client = ChatClient(p["criticEndpoint"], model, api_key=os.environ.get("DUAL_IPO_CRITIC_API_KEY"))
    return EndpointCritic(client, int(p.get("maxNewTokens", 128)), float(p.get("temperature", 1.0)))


def main() -> None:
    with Job() as job, stdout_to_stderr(job):
        p = job.params
        k, mode, n_frames = int(p.get("paths", 5)), p.get("mode", "both"), int(p.get("frames", 16))
        if mode not in ("both", "pointwise", "pairwise"):
            raise ValueError(f"params.mode must be both, pointwise or pairwise, got {mode!r}")
        work = os.path.join(job_dir(job), "label-work")
        os.makedirs(work, exist_ok=True)
        samples = unpack(job.input_path("samples"), os.path.join(work, "samples"))
        with open(os.path.join(samples, "index.json"), encoding="utf-8") as f:
            index = json.load(f)
        videos = index["videos"]
        adapters = read_critic(job.inputs.get("critic", {}).get("path"), work)
        remote = endpoint_critic(job, p, adapters)
        if remote is None:
            model, processor = load_critic(p.get("criticModel"), adapters, p.get("dtype", "float32"), p.get("device", "cpu"))
            critic = Critic(model, processor, int(p.get("maxNewTokens", 128)), float(p.get("temperature", 1.0)))
            pixels = {v["id"]: frames(load_video(v["path"], samples), n_frames) for v in videos}

        tasks = []
        if mode in ("both", "pointwise"):
            tasks += [("point", (v,), d) for v in videos for d in DIMENSIONS]
        if mode in ("both", "pairwise"):
            by_prompt = {}
            for v in videos:
                by_prompt.setdefault(v["promptId"], []).append(v)
            tasks += [("pair", (a, b), d) for group in by_prompt.values() for a, b in itertools.combinations(group, 2) for d in DIMENSIONS]

        done_path = os.path.join(work, "judged.json")
        judged = {}
        if os.path.exists(done_path):
            with open(done_path, encoding="utf-8") as f:
                judged = json.load(f)
            job.log(f"resumed: {len(judged)} judgements kept from {done_path}")
        for n, (kind, vs, dim) in enumerate(tasks):
            key = f"{kind}:{'|'.join(v['id'] for v in vs)}:{dim}"
            if key not in judged:
                prompt = vs[0]["prompt"]
                question = pointwise_question(prompt, dim) if kind == "point" else pairwise_question(prompt, dim)
                options, seed = POINTWISE if kind == "point" else PAIRWISE, item_seed(int(p.get("seed", 0)), key)
                if remote is None:
                    paths = critic.judge(question, [pixels[v["id"]] for v in vs], options, k, seed)
                else:
                    paths = remote.judge(question, [os.path.join(samples, v["path"]) for v in vs], options, k, seed)
                answers = [x["answer"] for x in paths if x["answer"] is not None]   # an endpoint's unparsable paths: no vote
                judged[key] = {"kind": kind, "videos": [v["id"] for v in vs], "dimension": dim, "question": question, "paths": paths,
                               "vote": self_consistency_vote(answers)._asdict() if answers else None}
                atomic_write_text(done_path, json.dumps(judged))
            job.progress(n + 1, len(tasks), f"{kind} {n + 1}/{len(tasks)}", checkpoint={"judged": n + 1})

        by_id = {v["id"]: v for v in videos}
        rows_point, rows_pair = [], []
        for (kind, vs, dim) in tasks:
            j = judged[f"{kind}:{'|'.join(v['id'] for v in vs)}:{dim}"]
            vote = j["vote"]
            if vote is None:
                continue
            # The rationale SRPO trains on: the first path that reached the voted answer.
            rationale = next(x["rationale"] for x in j["paths"] if x["answer"] == vote["answer"])
            if kind == "point":
                rows_point.append({"prompt": vs[0]["prompt"], "dimension": dim, "video": vs[0]["path"], "id": vs[0]["id"],
                                   "answer": vote["answer"], "score": POINT_SCORE[vote["answer"]], "share": vote["share"], "margin": vote["margin"]})
            else:
                rows_pair.append({"prompt": vs[0]["prompt"], "dimension": dim, "videoA": vs[0]["path"], "videoB": vs[1]["path"],
                                  "idA": vs[0]["id"], "idB": vs[1]["id"], "preferred": vote["answer"], "share": vote["share"],
                                  "margin": vote["margin"], "rationale": rationale})
        votes = [j["vote"] for j in judged.values() if j["vote"] is not None]
        with job.output_dir("labels", output="labels", archive=True, summary={"pointwise": len(rows_point), "pairwise": len(rows_pair)}) as d:
            os.makedirs(os.path.join(d, "videos"))
            for v in videos:
                shutil.copyfile(os.path.join(samples, v["path"]), os.path.join(d, v["path"]))
            with open(os.path.join(d, "labels.json"), "w", encoding="utf-8") as f:
                json.dump({"format": "dual-ipo/vlm-labels@1", "paths": k, "dimensions": DIMENSIONS, "videos": list(by_id.values()),
                           "judgements": [judged[f"{kind}:{'|'.join(v['id'] for v in vs)}:{dim}"] for kind, vs, dim in tasks]}, f, indent=1)
            for name, rows in (("pointwise.jsonl", rows_point), ("pairwise.jsonl", rows_pair)):
                with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                    f.writelines(json.dumps(r) + "\n" for r in rows)
        job.finish(metrics={"videos": len(videos), "pairs": len(rows_pair) // len(DIMENSIONS), "judgements": len(votes),
                            "meanShare": sum(v["share"] for v in votes) / max(1, len(votes)),
                            "unanimous": sum(v["share"] == 1 for v in votes) / max(1, len(votes)), "unvoted": len(judged) - len(votes)})


if __name__ == "__main__":
    main()
