"""Stage `generatorTrain`: Diffusion-DPO (eqs. 6-7) or Diffusion-KTO (eqs. 8-10) LoRA training of the
CogVideoX transformer, the previous generator as the frozen reference (its adapter switched off).

    command: [python, -m, dual_ipo_jobs.jobs.generator_train]

inputs:  generator (optional): a dual-ipo/cogvideox-lora@1 artifact (the reference); without it the base
         preferences: pceFilter's artifact (preferences.tar: its TRL exports), or a TRL preference JSONL {prompt, chosen, rejected}, TRL unpaired JSONL {prompt,
           completion, label} (KTO only) or a Pick-a-Pic CSV; videos are locators (dual_ipo_jobs.videos:
           "<.dipv uri>#<id>" as pceFilter exports them, or .mp4 / .npy paths, relative to the file)
         realVideos (when lambdaReal > 0): bootstrap's realVideos.tar or a JSONL {prompt, video}
params:  baseModel (required), method "dpo" | "kto", steps 100, batchSize 1, learningRate 1e-4,
         betaDpo 5000, betaKto 1000, lambdaPreferred 0 (eq. 7's lambda_1), lambdaReal 0 (lambda_2 / eq. 10's
         lambda), loraRank 16, loraAlpha 16, numFrames 49, height 480, width 720, maxSequenceLength 226,
         seed 0, checkpointEvery 10, dtype "float32", device "cpu"
outputs: generator = generator.tar (the input's adapters + this round's), losses = losses.json
metrics: lossFirst, lossMax, lossFinal (the total loss), nanCount, implicitAccuracy (last quarter), steps;
         no row in the preferences: the input generator unchanged (items 0, steps 0), as the builtin stage;
         losses.json also has the eq. 6 / eq. 8 term alone per step ("preference")

Every step draws its batch, timesteps and noise from (seed, step), and checkpoints hold the LoRA
weights, AdamW's state and the losses so far, so a resumed run continues the same trajectory.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os

import torch

from dual_ipo_jobs import Job, atomic_write_bytes
from dual_ipo_jobs.cogvideox import (LORA_TARGETS, artifact_member, encode_prompts, encode_videos, fit_video, job_dir, load_pipeline,
                                     read_generator, rotary, stdout_to_stderr, write_generator)
from dual_ipo_jobs.losses import (diffusion_dpo_loss, diffusion_dpo_total_loss, diffusion_kto_loss, diffusion_kto_total_loss,
                                  diffusion_nll_loss, noise_prediction_mse)
from dual_ipo_jobs.videos import VideoLoader, read_jsonl


def read_preferences(path: str, method: str) -> list:
    """Rows as (prompt, video, desirable, pair index): pairs for DPO, points for KTO (a pair gives both)."""
    if path.endswith(".csv"):
        with open(path, encoding="utf-8", newline="") as f:
            rows = [{"prompt": r["caption"], **({"chosen": r["video_0"], "rejected": r["video_1"]} if float(r["label_0"]) > 0.5
                                               else {"chosen": r["video_1"], "rejected": r["video_0"]})}
                    for r in csv.DictReader(f) if float(r["label_0"]) != 0.5]
    else:
        rows = read_jsonl(path)
    if not rows:
        raise ValueError(f"preferences {path}: no rows")
    if "chosen" in rows[0]:
        return [(r["prompt"], v, d, i) for i, r in enumerate(rows) for v, d in ((r["chosen"], True), (r["rejected"], False))]
    if method == "dpo":
        raise ValueError(f"preferences {path}: unpaired rows (prompt, completion, label) cannot train DPO; use method kto")
    return [(r["prompt"], r["completion"], bool(r["label"]), i) for i, r in enumerate(rows)]


class Trainer:
    def __init__(self, job: Job):
        p = self.p = job.params
        self.job, self.method = job, p.get("method", "dpo")
        if self.method not in ("dpo", "kto"):
            raise ValueError(f"params.method must be dpo or kto, got {self.method!r}")
        self.steps, self.batch = int(p.get("steps", 100)), int(p.get("batchSize", 1))
        self.lam_pref, self.lam_real = float(p.get("lambdaPreferred", 0)), float(p.get("lambdaReal", 0))
        self.work = os.path.join(job_dir(job), "generatorTrain-work")
        os.makedirs(self.work, exist_ok=True)
        _, self.parents = read_generator(job.inputs.get("generator", {}).get("path"), self.work)
        pipe = self.pipe = load_pipeline(p.get("baseModel"), self.parents, p.get("dtype", "float32"), p.get("device", "cpu"))
        self.size = (int(p.get("numFrames", 49)), int(p.get("height", 480)), int(p.get("width", 720)))
        self.encode_data()
        from peft import LoraConfig

        self.lora_config = LoraConfig(r=int(p.get("loraRank", 16)), lora_alpha=int(p.get("loraAlpha", 16)),
                                      init_lora_weights=True, target_modules=LORA_TARGETS)
        tr = pipe.transformer
        tr.requires_grad_(False)
        torch.manual_seed(int(p.get("seed", 0)))   # LoRA's A is drawn at random: a retry must draw the same A
        tr.add_adapter(self.lora_config)           # B = 0: the policy starts equal to the reference
        tr.train()
        self.params = [q for q in tr.parameters() if q.requires_grad]
        self.opt = torch.optim.AdamW(self.params, lr=float(p.get("learningRate", 1e-4)), weight_decay=0.0)
        self.sched = pipe.scheduler
        self.rot = rotary(pipe, self.size[1], self.size[2], self.latents.shape[1])
        self.losses, self.preference, self.accuracy, self.step = [], [], [], 0

    def encode_data(self):
        job, (T, H, W) = self.job, self.size
        # pceFilter's artifact (preferences.tar) holds both exports; a bare JSONL / CSV file is used as it is.
        member = "trl-preference.jsonl" if self.method == "dpo" else "trl-unpaired.jsonl"
        prefs = artifact_member(job.input_path("preferences"), self.work, "preferences", member)
        rows = read_preferences(prefs, self.method)
        load = VideoLoader(os.path.dirname(prefs))
        videos = sorted({v for _, v, _, _ in rows})
        prompts = sorted({pr for pr, _, _, _ in rows})
        real = []
        if self.lam_real > 0:
            real_path = artifact_member(job.input_path("realVideos"), self.work, "realVideos", "real-videos.jsonl")
            real = read_jsonl(real_path)
            load_real = VideoLoader(os.path.dirname(real_path))
            prompts = sorted(set(prompts) | {r["prompt"] for r in real})
        job.log(f"encoding {len(videos)} videos, {len(real)} real videos and {len(prompts)} prompts")
        self.latents = encode_videos(self.pipe, torch.stack([fit_video(load(v), T, H, W) for v in videos]))
        self.real_latents = encode_videos(self.pipe, torch.stack([fit_video(load_real(r["video"]), T, H, W) for r in real])) if real else None
        self.emb = encode_prompts(self.pipe, prompts, int(self.p.get("maxSequenceLength", 226)))
        vid, pid = {v: i for i, v in enumerate(videos)}, {pr: i for i, pr in enumerate(prompts)}
        if self.method == "dpo":   # (prompt, chosen, rejected) index triples
            pairs = {}
            for pr, v, d, i in rows:
                pairs.setdefault(i, [pid[pr], None, None])[1 if d else 2] = vid[v]
            self.items = list(pairs.values())
        else:                      # (prompt, video, desirable)
            self.items = [(pid[pr], vid[v], d) for pr, v, d, _ in rows]
        self.real_items = [(pid[r["prompt"]], i) for i, r in enumerate(real)]

    # one step -------------------------------------------------------------------------------------
    def mse(self, latents, emb, t, noise, reference: bool):
        noisy = self.sched.add_noise(latents, noise, t)
        target = self.sched.get_velocity(latents, noise, t) if self.sched.config.prediction_type == "v_prediction" else noise
        tr = self.pipe.transformer
        if reference:
            tr.disable_adapters()
            try:
                with torch.no_grad():
                    pred = tr(hidden_states=noisy, encoder_hidden_states=emb, timestep=t, image_rotary_emb=self.rot, return_dict=False)[0]
            finally:
                tr.enable_adapters()
        else:
            pred = tr(hidden_states=noisy, encoder_hidden_states=emb, timestep=t, image_rotary_emb=self.rot, return_dict=False)[0]
        # v-prediction: eq. 6's ||eps - eps_theta||^2 becomes the v error, which differs by a per-t weight (folded into beta).
        return noise_prediction_mse(pred, target)

    def draw(self, g, n, shape):
        t = torch.randint(0, self.sched.config.num_train_timesteps, (n,), generator=g)
        return t, torch.randn((n, *shape), generator=g)

    def loss(self, step: int):
        g = torch.Generator().manual_seed(int(self.p.get("seed", 0)) * 1_000_003 + step)
        pick = torch.randint(0, len(self.items), (self.batch,), generator=g).tolist()
        items = [self.items[i] for i in pick]
        shape = self.latents.shape[1:]
        if self.method == "dpo":
            emb = self.emb[[i[0] for i in items]]
            lat = torch.cat([self.latents[[i[1] for i in items]], self.latents[[i[2] for i in items]]])
            t, noise = self.draw(g, self.batch, shape)   # shared by winner and loser (eq. 6)
            t2, noise2, emb2 = torch.cat([t, t]), torch.cat([noise, noise]), torch.cat([emb, emb])
            m, r = self.mse(lat, emb2, t2, noise2, False), self.mse(lat, emb2, t2, noise2, True)
            n = self.batch
            out = diffusion_dpo_loss(m[:n], m[n:], r[:n], r[n:], beta=float(self.p.get("betaDpo", 5000)))
            loss, acc = diffusion_dpo_total_loss(out.loss, m[:n], self.real_mse(g), self.lam_pref, self.lam_real), out.implicit_accuracy
        else:
            emb = self.emb[[i[0] for i in items]]
            lat = self.latents[[i[1] for i in items]]
            t, noise = self.draw(g, self.batch, shape)
            m, r = self.mse(lat, emb, t, noise, False), self.mse(lat, emb, t, noise, True)
            desirable = [i[2] for i in items]
            out = diffusion_kto_loss(m, r, desirable, beta=float(self.p.get("betaKto", 1000)))
            # implicit accuracy for KTO: the policy fits desirable videos better and undesirable ones worse than the reference
            acc = float(sum((rr > mm) == d for mm, rr, d in zip(m.tolist(), r.tolist(), desirable))) / len(desirable)
            loss = diffusion_kto_total_loss(out.loss, self.real_mse(g), self.lam_real)
        return loss, float(out.loss), acc

    def real_mse(self, g):
        if self.lam_real == 0 or not self.real_items:
            return None
        pick = torch.randint(0, len(self.real_items), (self.batch,), generator=g).tolist()
        items = [self.real_items[i] for i in pick]
        t, noise = self.draw(g, self.batch, self.real_latents.shape[1:])
        return self.mse(self.real_latents[[i[1] for i in items]], self.emb[[i[0] for i in items]], t, noise, False)

    # checkpoints ----------------------------------------------------------------------------------
    def save(self) -> dict:
        from peft.utils import get_peft_model_state_dict

        buf = io.BytesIO()
        torch.save({"step": self.step, "lora": get_peft_model_state_dict(self.pipe.transformer), "opt": self.opt.state_dict(),
                    "losses": self.losses, "preference": self.preference, "accuracy": self.accuracy}, buf)
        path = os.path.join(self.work, "checkpoint.pt")
        atomic_write_bytes(path, buf.getvalue())
        return {"step": self.step, "path": path}

    def restore(self, ckpt) -> None:
        from peft.utils import set_peft_model_state_dict

        path = (ckpt or {}).get("path")
        if not path:
            return
        if not os.path.exists(path):
            self.job.log(f"checkpoint {path} is gone (another host?); training from step 0")
            return
        state = torch.load(path, weights_only=True)
        set_peft_model_state_dict(self.pipe.transformer, state["lora"])
        self.opt.load_state_dict(state["opt"])
        self.step, self.losses, self.preference, self.accuracy = state["step"], state["losses"], state["preference"], state["accuracy"]
        self.job.log(f"resumed at step {self.step} from {path}")

    def train(self) -> None:
        job, every = self.job, max(1, int(self.p.get("checkpointEvery", 10)))
        self.restore(job.checkpoint)
        updating = [False]
        saved = [self.step]

        def on_terminate():
            # Mid-update weights are half old, half new: then the last saved checkpoint is the one to keep.
            if updating[0] or self.step == saved[0]:
                return job.checkpoint
            return self.save()
        job.on_terminate = on_terminate
        while self.step < self.steps:
            loss, preference, acc = self.loss(self.step)
            self.opt.zero_grad(set_to_none=True)
            finite = math.isfinite(float(loss))
            if finite:
                loss.backward()
            updating[0] = True
            if finite:   # a NaN step is counted, not applied
                self.opt.step()
            self.step += 1
            self.losses.append(float(loss))
            self.preference.append(preference)
            self.accuracy.append(acc)
            updating[0] = False
            ckpt = None
            if self.step % every == 0 or self.step == self.steps:
                ckpt, saved[0] = self.save(), self.step
            job.progress(self.step, self.steps, f"step {self.step}/{self.steps} loss={float(loss):.4f}", checkpoint=ckpt)

    def write(self) -> dict:
        from peft.utils import get_peft_model_state_dict
        from diffusers import CogVideoXPipeline

        adapter = os.path.join(self.work, "adapter")
        CogVideoXPipeline.save_lora_weights(adapter, transformer_lora_layers=get_peft_model_state_dict(self.pipe.transformer),
                                            transformer_lora_adapter_metadata=self.lora_config.to_dict())
        with self.job.output_dir("generator", output="generator", archive=True, summary={"adapters": len(self.parents) + 1}) as d:
            write_generator(d, self.parents, adapter)
        self.job.write_json("losses.json", {"method": self.method, "losses": self.losses, "preference": self.preference,
                                              "implicitAccuracy": self.accuracy}, output="losses")
        finite = [x for x in self.losses if math.isfinite(x)]
        tail = self.accuracy[-max(1, len(self.accuracy) // 4):]
        return {"steps": self.step, "lossFirst": self.losses[0], "lossFinal": self.losses[-1], "lossMax": max(finite) if finite else float("nan"),
                "nanCount": len(self.losses) - len(finite), "implicitAccuracy": sum(tail) / len(tail)}


def unchanged(job: Job) -> bool:
    """Nothing passed the filter (an empty export): the candidate is the input generator itself, as the builtin
    stage does, and the eval gate then compares equals."""
    work = os.path.join(job_dir(job), "generatorTrain-work")
    method = job.params.get("method", "dpo")
    prefs = artifact_member(job.input_path("preferences"), work, "preferences", "trl-preference.jsonl" if method == "dpo" else "trl-unpaired.jsonl")
    if prefs.endswith(".csv") or read_jsonl(prefs):
        return False
    job.log("generatorTrain: no preference data passed the filter; the generator is unchanged")
    _, parents = read_generator(job.inputs.get("generator", {}).get("path"), work)
    with job.output_dir("generator", output="generator", archive=True, summary={"adapters": len(parents), "unchanged": True}) as d:
        write_generator(d, parents, None)
    job.write_json("losses.json", {"method": method, "losses": [], "preference": [], "implicitAccuracy": []}, output="losses")
    job.finish(metrics={"items": 0, "steps": 0, "lossFirst": 0, "lossFinal": 0, "lossMax": 0, "nanCount": 0, "implicitAccuracy": 0})
    return True


def main() -> None:
    with Job() as job, stdout_to_stderr(job):
        if unchanged(job):
            return
        trainer = Trainer(job)
        trainer.train()
        job.finish(metrics=trainer.write())


if __name__ == "__main__":
    main()
