#!/usr/bin/env python3
"""The toy world of examples/jobs/stage-job.mjs, in Python on dual_ipo_jobs: a "generator" is a quality
number and a "critic" an accuracy. Same stages, same numbers, same params (steps, stepDelayMs, ...),
so a campaign can run on either. Replace the bodies with your trainer; keep the Job calls.

    python -m pip install ./python && python python/examples/stage_job.py REQUEST.json
"""
import hashlib
import math
import time

from dual_ipo_jobs import Job


def unit(text: str) -> float:
    """A deterministic number in [0, 1] from a string (the .mjs job's `unit`)."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def jsonl(rows) -> str:
    import json
    return "\n".join(json.dumps(r, separators=(",", ":")) for r in rows)


def main() -> None:
    with Job() as job:
        p, stage = job.params, job.stage
        steps, delay = int(p.get("steps", 5)), float(p.get("stepDelayMs", 0)) / 1000
        seed = f"{p.get('seed', 0)}/{job.round}/{stage}"
        # resumable steps: a restarted job skips the steps it finished
        start = int((job.checkpoint or {}).get("step", 0))
        if start > 0:
            job.log(f"resuming {stage} at step {start}")
        for step in range(start, steps):
            time.sleep(delay)
            job.progress(step + 1, steps, f"{stage} step {step + 1}/{steps}", checkpoint={"step": step + 1})

        m = {}
        if stage == "bootstrap":
            job.write_json("generator.json", {"quality": 70}, output="generator")
            job.write_json("critic.json", {"accuracy": 0.78}, output="critic")
            job.write_text("human-seed.jsonl", jsonl({"pair": i, "label": "A" if unit(f"seed{i}") > 0.5 else "B"} for i in range(32)), output="humanSeed")
            job.write_text("human-test.jsonl", jsonl({"pair": i, "label": "A" if unit(f"test{i}") > 0.5 else "B"} for i in range(16)), output="humanTest")
            job.write_json("real-videos.json", {"count": 8}, output="realVideos")
            job.write_text("eval-prompts.jsonl", jsonl({"id": f"p{i}"} for i in range(int(p.get("evalPrompts", 4)))), output="evalPrompts")
        elif stage == "sample":
            quality = job.read_json("generator")["quality"]
            k = int(p.get("candidatesPerPrompt", 4))
            n = int(p.get("promptsPerRound", 4)) * k
            videos = [{"id": i, "prompt": i // k, "quality": quality + 10 * (unit(f"{seed}/{i}") - 0.5)} for i in range(n)]
            job.write_json("samples.json", videos, output="samples")
            m["videos"] = n
        elif stage == "label":
            accuracy = job.read_json("critic")["accuracy"]
            step_name = "null" if job.step is None else job.step   # the .mjs job formats a missing step as "null"
            labels = [{**v, "score": v["quality"] + (1 - accuracy) * 20 * (unit(f"{seed}/{step_name}/{v['id']}") - 0.5)} for v in job.read_json("samples")]
            job.write_json("labels.json", labels, output="labels")
            m["pairs"] = len({l["prompt"] for l in labels})
        elif stage == "pceFilter":
            labels = job.read_json("labels")
            mean = sum(l["score"] for l in labels) / len(labels)
            kept = [l for l in labels if l["score"] > mean]
            job.write_json("preferences.json", kept, output="preferences")
            m.update(kept=len(kept), total=len(labels))
        elif stage == "criticTrain":
            accuracy = job.read_json("critic")["accuracy"]
            pseudo = job.read_json("pseudo")
            nxt = min(0.95, accuracy + float(p.get("criticGain", 0.01)) * math.log2(1 + len(pseudo) / 8))
            job.write_json("critic.json", {"accuracy": round(nxt, 6)}, output="critic")
            m["lossFinal"] = round(1 - nxt, 6)
        elif stage == "validate":
            accuracy = job.read_json("critic")["accuracy"]
            m.update(agreementPairwise=accuracy, agreementPointwise=min(1, accuracy + 0.04))
            job.write_json("validation.json", {"agreementPairwise": accuracy}, output="report")
        elif stage == "generatorTrain":
            quality = job.read_json("generator")["quality"]
            gain = float(p.get("gain", 1.5)) * min(1, len(job.read_json("preferences")) / 8)
            losses = [round(0.69 * math.exp(-i / 15) + 0.01 * unit(f"{seed}/loss{i}"), 6) for i in range(20)]
            job.write_json("generator.json", {"quality": round(quality + gain, 6)}, output="generator")
            job.write_json("losses.json", losses, output="losses")
            m.update(lossFirst=losses[0], lossFinal=losses[-1], lossMax=max(losses), nanCount=0)
        elif stage == "evaluate":
            quality = job.read_json("generator")["quality"]
            m.update(total=quality, quality=quality + 1, semantic=quality - 4)
            job.write_json("scores.json", m, output="scores")
        else:
            raise SystemExit(f"stage_job.py does not know stage {stage!r}")
        job.finish(metrics=m)


if __name__ == "__main__":
    main()
