"""Stage `criticTrain`: the critic's SRPO fine-tune (eq. 5, PCE-weighted DPO) with LoRA on the language
model, the input critic as the frozen reference (its adapter switched off).

    command: [python, -m, dual_ipo_jobs.jobs.critic_train]

inputs:  pseudo: pceFilter's artifact (preferences.tar) or the label job's (labels.tar): their pairwise.jsonl;
           or a pairwise JSONL file
         humanSeed (optional): bootstrap's humanSeed.tar, or pairwise JSONL rows {prompt, dimension, videoA, videoB, preferred, rationale?}
           (locators relative to the file, as dual_ipo_jobs.videos reads them)
         critic (optional): a dual-ipo/vlm-critic-lora@1 artifact; without it the base critic
params:  criticModel (required), loss "srpo" | "dpo", beta 0.1, steps 100, batchSize 1, learningRate 2e-5,
         loraRank 16, loraAlpha 32, frames 16, seed 0, checkpointEvery 10, dtype, device
outputs: critic = critic.tar (the input's adapters + this one), losses = losses.json
metrics: lossFirst, lossFinal, lossMax, nanCount, steps, q (eq. 4's Q), meanPce

A row's chosen response is its rationale + "Answer: <preferred>", the rejected one the same rationale
with the other answer, so the pair differs only in the judgement. Human rows are weighted 1 (PCE
estimates how sure the critic's own labels are; a human label needs no such weight). Q, the mean
implicit reward over the pseudo-labels, is computed once per job (once per SRPO iteration).
"""
from __future__ import annotations

import io
import json
import math
import os
import sys

import torch

from dual_ipo_jobs import Job, atomic_write_bytes
from dual_ipo_jobs.cogvideox import job_dir, stdout_to_stderr, unpack
from dual_ipo_jobs.critic import (LORA_TARGETS, PAIRWISE, Critic, answer_text, frames, load_critic, pairwise_question, read_critic,
                                  write_critic)
from dual_ipo_jobs.losses import dpo_loss, mean_reward, srpo_loss
from dual_ipo_jobs.videos import VideoLoader, read_jsonl


def read_rows(path: str, work: str, name: str):
    if os.path.isdir(path) or not path.endswith(".jsonl"):
        path = os.path.join(unpack(path, os.path.join(work, name)), "pairwise.jsonl")
    rows = read_jsonl(path)
    ties = [r for r in rows if r.get("preferred") == "tie"]   # a human tie has no preferred answer to train on
    rows = [r for r in rows if r.get("preferred") != "tie"]
    if ties:
        print(f"critic_train: {name}: {len(ties)} tied row(s) left out", file=sys.stderr)
    for i, r in enumerate(rows):
        if r.get("preferred") not in PAIRWISE or not {"prompt", "dimension", "videoA", "videoB"} <= set(r):
            raise ValueError(f"{name} row {i + 1}: need prompt, dimension, videoA, videoB and preferred A or B; got {sorted(r)}")
    return rows, os.path.dirname(path)


def main() -> None:
    with Job() as job, stdout_to_stderr(job):
        from peft import LoraConfig, get_peft_model
        from peft.utils import get_peft_model_state_dict, set_peft_model_state_dict

        p = job.params
        steps, batch, beta = int(p.get("steps", 100)), int(p.get("batchSize", 1)), float(p.get("beta", 0.1))
        use_pce = p.get("loss", "srpo") == "srpo"
        work = os.path.join(job_dir(job), "criticTrain-work")
        os.makedirs(work, exist_ok=True)
        parents = read_critic(job.inputs.get("critic", {}).get("path"), work)
        model, processor = load_critic(p.get("criticModel"), parents, p.get("dtype", "float32"), p.get("device", "cpu"))
        pseudo, pseudo_dir = read_rows(job.input_path("pseudo"), work, "pseudo")
        human, human_dir = read_rows(job.input_path("humanSeed"), work, "humanSeed") if "humanSeed" in job.inputs else ([], None)
        rows = [(r, pseudo_dir, True) for r in pseudo] + [(r, human_dir, False) for r in human]
        loaders, n_frames = {}, int(p.get("frames", 16))

        def videos(row, base):
            load = loaders.setdefault(base, VideoLoader(base))
            return [frames(load(row["videoA"]), n_frames), frames(load(row["videoB"]), n_frames)]
        data = [(pairwise_question(r["prompt"], r["dimension"]), videos(r, base), answer_text(r.get("rationale", ""), r["preferred"]),
                 answer_text(r.get("rationale", ""), "B" if r["preferred"] == "A" else "A"), is_pseudo) for r, base, is_pseudo in rows]

        torch.manual_seed(int(p.get("seed", 0)))   # LoRA's A is random: a retry must draw the same one
        lora = LoraConfig(r=int(p.get("loraRank", 16)), lora_alpha=int(p.get("loraAlpha", 32)), target_modules=LORA_TARGETS,
                          exclude_modules=r".*visual.*")
        model = get_peft_model(model, lora)
        critic = Critic(model, processor)

        def logps(i, reference: bool):
            q, vids, chosen, rejected, _ = data[i]
            if reference:
                with model.disable_adapter(), torch.no_grad():
                    return critic.response_logp(q, vids, chosen), critic.response_logp(q, vids, rejected)
            return critic.response_logp(q, vids, chosen), critic.response_logp(q, vids, rejected)

        ref = [logps(i, True) for i in range(len(data))]
        opt = torch.optim.AdamW([x for x in model.parameters() if x.requires_grad], lr=float(p.get("learningRate", 2e-5)), weight_decay=0.0)
        state = {"step": 0, "losses": [], "pce": []}
        ckpt = job.checkpoint or {}
        if ckpt.get("path") and os.path.exists(ckpt["path"]):
            saved = torch.load(ckpt["path"], weights_only=True)
            set_peft_model_state_dict(model, saved["lora"])
            opt.load_state_dict(saved["opt"])
            state = saved["state"]
            job.log(f"resumed at step {state['step']} from {ckpt['path']}")
        # Q over the pseudo-labels with the policy at the start of this iteration (eq. 4); a resumed job keeps its Q.
        if "q" not in state:
            with torch.no_grad():
                rewards = [float(logps(i, False)[0] - ref[i][0]) for i in range(len(data)) if data[i][4]]
            state["q"] = mean_reward(rewards) if rewards else 0.0

        def save():
            buf = io.BytesIO()
            torch.save({"lora": get_peft_model_state_dict(model), "opt": opt.state_dict(), "state": state}, buf)
            path = os.path.join(work, "checkpoint.pt")
            atomic_write_bytes(path, buf.getvalue())
            return {"step": state["step"], "path": path}
        every = max(1, int(p.get("checkpointEvery", 10)))
        updating, saved_step = [False], [state["step"]]
        job.on_terminate = lambda: job.checkpoint if updating[0] or state["step"] == saved_step[0] else save()
        model.train()
        while state["step"] < steps:
            g = torch.Generator().manual_seed(int(p.get("seed", 0)) * 1_000_003 + state["step"])
            pick = torch.randint(0, len(data), (batch,), generator=g).tolist()
            pol = [logps(i, False) for i in pick]
            args = (torch.stack([c for c, _ in pol]), torch.stack([r for _, r in pol]),
                    torch.stack([ref[i][0] for i in pick]), torch.stack([ref[i][1] for i in pick]))
            out = srpo_loss(*args, mean=state["q"], beta=beta)
            plain = dpo_loss(*args, beta=beta).per_sample
            pseudo_mask = torch.tensor([data[i][4] and use_pce for i in pick])
            loss = torch.where(pseudo_mask, out.per_sample, plain).mean()
            opt.zero_grad(set_to_none=True)
            finite = math.isfinite(float(loss))
            if finite:
                loss.backward()
            updating[0] = True
            if finite:
                opt.step()
            state["step"] += 1
            state["losses"].append(float(loss))
            state["pce"] += [float(x) for x, m in zip(out.pce, pseudo_mask) if m]
            updating[0] = False
            report = None
            if state["step"] % every == 0 or state["step"] == steps:
                report, saved_step[0] = save(), state["step"]
            job.progress(state["step"], steps, f"step {state['step']}/{steps} loss={float(loss):.4f}", checkpoint=report)

        adapter = os.path.join(work, "adapter")
        model.save_pretrained(adapter)
        with job.output_dir("critic", output="critic", archive=True, summary={"adapters": len(parents) + 1}) as d:
            write_critic(d, parents, adapter)
        job.write_json("losses.json", state, output="losses")
        losses = state["losses"]
        finite = [x for x in losses if math.isfinite(x)]
        job.finish(metrics={"steps": state["step"], "lossFirst": losses[0], "lossFinal": losses[-1], "lossMax": max(finite) if finite else float("nan"),
                            "nanCount": len(losses) - len(finite), "q": state["q"],
                            "meanPce": sum(state["pce"]) / len(state["pce"]) if state["pce"] else float("nan")})


if __name__ == "__main__":
    main()
