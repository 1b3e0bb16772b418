"""Stage `validate` (appendix C): the critic's agreement with the held-out human test set, the critic gate's figure.

    command: [python, -m, dual_ipo_jobs.jobs.validate]

inputs:  critic: a dual-ipo/vlm-critic-lora@1 artifact; humanTest: bootstrap's humanTest.tar (pairwise.jsonl,
         pointwise.jsonl, videos/)
params:  criticModel (required), paths 5 (k), temperature 1.0, maxNewTokens 128, frames 16, seed 0, dtype, device;
         criticEndpoint, criticEndpointModel, criticEndpointServesAdapters: the critic over an OpenAI-compatible
         endpoint, as in the label job (an item with no parsable answer counts as a miss)
output:  judgements = judgements.json (every path and vote next to the human label)
metrics: agreementPairwise (human ties excluded), agreementPointwise (when the set has pointwise rows), pairsCounted, videosCounted, agreementPairwise_<dimension>,
         agreementPointwise_<dimension>

The critic judges each test item as the label job does (the same questions, k chain-of-thought paths, the
self-consistency vote), and lib/core's agreement rules (dual_ipo_jobs.preferences) compare the votes with the
human labels. Judgements are kept in the job folder as they finish: a resumed job starts at the next item.
"""
from __future__ import annotations

import json
import math
import os

from dual_ipo_jobs import Job, atomic_write_text
from dual_ipo_jobs.cogvideox import job_dir, stdout_to_stderr, unpack
from dual_ipo_jobs.critic import (DIMENSIONS, PAIRWISE, POINTWISE, Critic, frames, load_critic, pairwise_question, pointwise_question,
                                  read_critic)
from dual_ipo_jobs.jobs.label import endpoint_critic, item_seed
from dual_ipo_jobs.preferences import pairwise_agreement, pointwise_agreement
from dual_ipo_jobs.stats import self_consistency_vote
from dual_ipo_jobs.videos import VideoLoader, read_jsonl


def main() -> None:
    with Job() as job, stdout_to_stderr(job):
        p = job.params
        k, n_frames, seed = int(p.get("paths", 5)), int(p.get("frames", 16)), int(p.get("seed", 0))
        work = os.path.join(job_dir(job), "validate-work")
        os.makedirs(work, exist_ok=True)
        test = unpack(job.input_path("humanTest"), os.path.join(work, "humanTest"))
        pairs = read_jsonl(os.path.join(test, "pairwise.jsonl"))
        points = read_jsonl(os.path.join(test, "pointwise.jsonl")) if os.path.exists(os.path.join(test, "pointwise.jsonl")) else []
        if not pairs:
            raise ValueError(f"humanTest ({job.input_path('humanTest')}) has no pairwise rows: no agreement to measure")
        adapters = read_critic(job.input_path("critic"), work)
        remote = endpoint_critic(job, p, adapters)
        if remote is None:
            model, processor = load_critic(p.get("criticModel"), adapters, p.get("dtype", "float32"), p.get("device", "cpu"))
            critic = Critic(model, processor, int(p.get("maxNewTokens", 128)), float(p.get("temperature", 1.0)))
        load = VideoLoader(test)
        tasks = [("pair", i, r) for i, r in enumerate(pairs)] + [("point", i, r) for i, r in enumerate(points)]

        done_path = os.path.join(work, "judged.json")
        judged = {}
        if os.path.exists(done_path):
            with open(done_path, encoding="utf-8") as f:
                judged = json.load(f)
            job.log(f"resumed: {len(judged)} judgements kept from {done_path}")
        for n, (kind, i, r) in enumerate(tasks):
            key = f"{kind}:{i}"
            if key not in judged:
                if kind == "pair":
                    question, files, options = pairwise_question(r["prompt"], r["dimension"]), [r["videoA"], r["videoB"]], PAIRWISE
                else:
                    question, files, options = pointwise_question(r["prompt"], r["dimension"]), [r["video"]], POINTWISE
                if remote is None:
                    paths = critic.judge(question, [frames(load(f), n_frames) for f in files], options, k, item_seed(seed, f"validate/{key}"))
                else:
                    paths = remote.judge(question, [os.path.join(test, f) for f in files], options, k, item_seed(seed, f"validate/{key}"))
                answers = [x["answer"] for x in paths if x["answer"] is not None]
                # No parsable answer (an endpoint's paths only): the critic gave none, which counts as a miss.
                judged[key] = {"paths": paths, "vote": self_consistency_vote(answers)._asdict() if answers else {"answer": "none"}}
                atomic_write_text(done_path, json.dumps(judged))
            job.progress(n + 1, len(tasks), f"{kind} {n + 1}/{len(tasks)}", checkpoint={"judged": n + 1})

        votes_pair = [judged[f"pair:{i}"]["vote"]["answer"] for i in range(len(pairs))]
        votes_point = [judged[f"point:{i}"]["vote"]["answer"] for i in range(len(points))]
        votes_pair = [v if v in PAIRWISE else "tie" for v in votes_pair]   # no answer = a critic tie: a miss on a decided pair
        a = pairwise_agreement(votes_pair, [r["preferred"] for r in pairs])
        metrics = {"agreementPairwise": a.agreement, "pairsCounted": a.counted}
        if points:
            b = pointwise_agreement(votes_point, [r["grade"] for r in points])
            metrics.update(agreementPointwise=b.agreement, videosCounted=b.counted)
        for dim in DIMENSIONS:
            sel = [i for i, r in enumerate(pairs) if r["dimension"] == dim]
            if sel:
                metrics[f"agreementPairwise_{dim}"] = pairwise_agreement([votes_pair[i] for i in sel], [pairs[i]["preferred"] for i in sel]).agreement
            sel = [i for i, r in enumerate(points) if r["dimension"] == dim]
            if sel:
                metrics[f"agreementPointwise_{dim}"] = pointwise_agreement([votes_point[i] for i in sel], [points[i]["grade"] for i in sel]).agreement
        job.write_json("judgements.json", {"format": "dual-ipo/vlm-validation@1", "paths": k,
                                           "pairwise": [{**r, "critic": judged[f"pair:{i}"]} for i, r in enumerate(pairs)],
                                           "pointwise": [{**r, "critic": judged[f"point:{i}"]} for i, r in enumerate(points)]}, output="judgements")
        # Nothing counted (all human ties) gives NaN: left out, as the builtin does, so the round fails for want of the figure.
        job.finish(metrics={k2: v for k2, v in metrics.items() if not (isinstance(v, float) and math.isnan(v))})


if __name__ == "__main__":
    main()
