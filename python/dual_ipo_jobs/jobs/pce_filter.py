"""Stage `pceFilter` (section 3.2, section 4.1): top-1 / bottom-1 pairs per prompt by the label job's scores,
each kept iff the critic's certainty PCE = sigma(beta (R(y_w|x) - Q)) > 0.5 (eqs. 2-4, strict), with R its
implicit reward (log pi_critic - log pi_base) for the answer naming the top video.

    command: [python, -m, dual_ipo_jobs.jobs.pce_filter]

inputs:  labels: the label job's artifact (labels.tar); critic (optional): the critic that labelled them
params:  criticModel (required: the base, the reference of R), beta 0.1 (critic.beta), usePce true,
         pceThreshold 0.5, minScoreGap 0, frames 16, dtype, device
output:  preferences = preferences.tar: preferences.json (every pair with its reward, PCE and verdict, Q),
         trl-preference.jsonl {prompt, chosen, rejected}, trl-unpaired.jsonl {prompt, completion, label},
         pick-a-pic.csv, pairwise.jsonl (the critic's own pairwise labels of the kept pairs: criticTrain's
         pseudo-labels), videos/ (locators relative to the artifact, as dual_ipo_jobs.videos reads them)
metrics: kept, total, keptShare, q, pceMean, rewardChosenMean, gapMean, points, desirable

A video's score (the critic's ranking) is the mean of two figures: its voted pointwise grades (good 1, normal
0.5, bad 0) averaged over the dimensions, and its share of pairwise wins against the prompt's other
candidates; one of them alone when the labels have only one kind. R(y|x) for a pair is the mean over the
dimensions of the log-ratio of "rationale + Answer: <letter of y>" given the pair as the label job showed
it, the rationale being the one the critic gave for that pair (label.py). Q is the mean of R over every
response, chosen and rejected (docs/algorithms.md section 2). The reference is the base critic
(criticModel without adapters): its log-probabilities are computed first, then the adapters are merged
into the same model, so one copy is in memory.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil

from dual_ipo_jobs import Job
from dual_ipo_jobs.cogvideox import job_dir, stdout_to_stderr, unpack
from dual_ipo_jobs.critic import DIMENSIONS, POINT_SCORE, Critic, answer_text, frames, merge_adapters, pairwise_question, read_critic
from dual_ipo_jobs.preferences import build_preference_pairs, split_for_kto
from dual_ipo_jobs.videos import load_video, read_jsonl


def video_scores(folder: str) -> dict:
    """{video path: (prompt, score)} from the label artifact: the mean of the video's pointwise score (its voted
    grade per dimension) and its pairwise win share (over the dimensions and the prompt's other candidates),
    either alone when the labels have only one kind."""
    point, pair = {}, {}
    for r in read_jsonl(os.path.join(folder, "pointwise.jsonl")):
        point.setdefault(r["video"], (r["prompt"], []))[1].append(POINT_SCORE[r["answer"]])
    for r in read_jsonl(os.path.join(folder, "pairwise.jsonl")):
        for key, letter in (("videoA", "A"), ("videoB", "B")):
            pair.setdefault(r[key], (r["prompt"], []))[1].append(1.0 if r["preferred"] == letter else 0.0)
    out = {}
    for v in sorted(set(point) | set(pair)):
        parts = [sum(s) / len(s) for s in (point.get(v, (None, []))[1], pair.get(v, (None, []))[1]) if s]
        out[v] = ((point.get(v) or pair.get(v))[0], sum(parts) / len(parts))
    return out


def main() -> None:
    with Job() as job, stdout_to_stderr(job):
        import torch

        from dual_ipo_jobs.critic import load_critic
        from dual_ipo_jobs.losses import mean_reward, preference_certainty

        p = job.params
        beta, use_pce, threshold = float(p.get("beta", 0.1)), bool(p.get("usePce", True)), float(p.get("pceThreshold", 0.5))
        work = os.path.join(job_dir(job), "pceFilter-work")
        os.makedirs(work, exist_ok=True)
        labels = unpack(job.input_path("labels"), os.path.join(work, "labels"))
        scores = video_scores(labels)
        by_prompt = {}
        for video, (prompt, score) in scores.items():
            by_prompt.setdefault(prompt, []).append({"id": video, "score": score})
        pairs = build_preference_pairs([{"prompt": pr, "candidates": c} for pr, c in by_prompt.items()], float(p.get("minScoreGap", 0)))
        judged = {}   # (videoA, videoB, dimension) -> the label job's pairwise row
        for r in read_jsonl(os.path.join(labels, "pairwise.jsonl")):
            judged[(r["videoA"], r["videoB"], r["dimension"])] = r

        # Each pair and dimension as the label job showed it: its video order, its rationale, the letters of y_w and y_l.
        items = []
        for i, pair in enumerate(pairs):
            for dim in DIMENSIONS:
                row = judged.get((pair["chosen"], pair["rejected"], dim))
                order = (pair["chosen"], pair["rejected"])
                if row is None and (pair["rejected"], pair["chosen"], dim) in judged:
                    row, order = judged[(pair["rejected"], pair["chosen"], dim)], (pair["rejected"], pair["chosen"])
                letters = ("A", "B") if order[0] == pair["chosen"] else ("B", "A")
                items.append((i, pair["prompt"], dim, order, (row or {}).get("rationale", ""), letters))
        n_frames = int(p.get("frames", 16))
        pixels = {v: frames(load_video(v, labels), n_frames) for pair in pairs for v in (pair["chosen"], pair["rejected"])}
        adapters = read_critic(job.inputs.get("critic", {}).get("path"), work)
        model, processor = load_critic(p.get("criticModel"), (), p.get("dtype", "float32"), p.get("device", "cpu"))
        total = 2 * len(items)

        def logps(critic, done):
            out = []
            with torch.no_grad():
                for n, (_, prompt, dim, order, rationale, letters) in enumerate(items):
                    q, vids = pairwise_question(prompt, dim), [pixels[v] for v in order]
                    out.append([float(critic.response_logp(q, vids, answer_text(rationale, x))) for x in letters])
                    job.progress(done + n + 1, total, f"log-probabilities {done + n + 1}/{total}")
            return out
        reference = logps(Critic(model, processor), 0)
        if not adapters:
            job.log("the critic has no adapters: it is its own reference, every R is 0 and every PCE 0.5")
        model = merge_adapters(model, adapters).eval()
        policy = logps(Critic(model, processor), len(items))

        chosen, rejected = [0.0] * len(pairs), [0.0] * len(pairs)
        for (i, *_), pol, ref in zip(items, policy, reference):
            chosen[i] += (pol[0] - ref[0]) / len(DIMENSIONS)
            rejected[i] += (pol[1] - ref[1]) / len(DIMENSIONS)
        q = mean_reward(chosen + rejected) if pairs else 0.0
        pce = preference_certainty(torch.tensor(chosen, dtype=torch.float64), q, beta).tolist() if pairs else []
        records = [{**pair, "reward": chosen[i], "rewardRejected": rejected[i], "pce": pce[i], "kept": (not use_pce) or pce[i] > threshold}
                   for i, pair in enumerate(pairs)]
        kept = [r for r in records if r["kept"]]
        kept_prompts = {r["prompt"] for r in kept}
        candidates = [{"id": v, "prompt": pr, "score": s} for v, (pr, s) in sorted(scores.items()) if pr in kept_prompts]
        split = split_for_kto(candidates, sum(c["score"] for c in candidates) / len(candidates)) if candidates else {"desirable": [], "undesirable": []}
        points = [{"prompt": c["prompt"], "completion": c["id"], "label": d} for d, key in ((True, "desirable"), (False, "undesirable")) for c in split[key]]
        kept_videos = {(r["chosen"], r["rejected"]) for r in kept} | {(r["rejected"], r["chosen"]) for r in kept}
        pseudo = [r for r in read_jsonl(os.path.join(labels, "pairwise.jsonl")) if (r["videoA"], r["videoB"]) in kept_videos]

        table = io.StringIO()
        w = csv.writer(table, lineterminator="\n")
        w.writerow(["caption", "video_0", "video_1", "label_0"])
        w.writerows([r["prompt"], r["chosen"], r["rejected"], 1.0] for r in kept)
        with job.output_dir("preferences", output="preferences", archive=True, summary={"kept": len(kept), "total": len(records)}) as d:
            shutil.copytree(os.path.join(labels, "videos"), os.path.join(d, "videos"))
            with open(os.path.join(d, "preferences.json"), "w", encoding="utf-8") as f:
                json.dump({"format": "dual-ipo/vlm-preferences@1", "beta": beta, "usePce": use_pce, "threshold": threshold, "q": q,
                           "pairs": records, "points": points}, f, indent=1)
            for name, rows in (("trl-preference.jsonl", [{"prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"]} for r in kept]),
                               ("trl-unpaired.jsonl", points), ("pairwise.jsonl", pseudo)):
                with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                    f.writelines(json.dumps(r) + "\n" for r in rows)
            with open(os.path.join(d, "pick-a-pic.csv"), "w", encoding="utf-8", newline="") as f:
                f.write(table.getvalue())
        mean = lambda xs: sum(xs) / len(xs) if xs else float("nan")   # noqa: E731
        job.finish(metrics={"kept": len(kept), "total": len(records), "keptShare": len(kept) / len(records) if records else float("nan"),
                            "q": q, "pceMean": mean(pce), "rewardChosenMean": mean(chosen), "gapMean": mean([r["gap"] for r in records]),
                            "points": len(points), "desirable": len(split["desirable"])})


if __name__ == "__main__":
    main()
