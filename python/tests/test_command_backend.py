"""The example job through the real TypeScript command backend (activities/backends/command.ts, driven
by test/helpers/run-stage-child.ts): a round's stages chained on their published artifacts, and the
same chain with examples/jobs/stage-job.mjs giving the same metrics and outputs."""
import json
import os
import shutil
import subprocess
import sys
from urllib.parse import urlparse

import pytest

from conftest import EXAMPLE, PYDIR, job_env

ROOT = os.path.dirname(PYDIR)
CHILD = os.path.join(ROOT, "test", "helpers", "run-stage-child.ts")
NODE_JOB = os.path.join(ROOT, "examples", "jobs", "stage-job.mjs")
pytestmark = pytest.mark.skipif(not (shutil.which("node") and os.path.isdir(os.path.join(ROOT, "node_modules", "tsx")) and os.path.exists(CHILD)),
                                reason="needs node with the repository's node_modules (npm run setup)")

CHAIN = [  # stage, step, inputs as (name, from stage, its output)
    ("bootstrap", None, []),
    ("sample", None, [("generator", "bootstrap", "generator")]),
    ("label", None, [("critic", "bootstrap", "critic"), ("samples", "sample", "samples")]),
    ("pceFilter", None, [("labels", "label", "labels"), ("critic", "bootstrap", "critic")]),
    ("criticTrain", None, [("critic", "bootstrap", "critic"), ("pseudo", "pceFilter", "preferences"), ("humanSeed", "bootstrap", "humanSeed")]),
    ("validate", None, [("critic", "criticTrain", "critic"), ("humanTest", "bootstrap", "humanTest")]),
    ("generatorTrain", None, [("generator", "bootstrap", "generator"), ("preferences", "pceFilter", "preferences"), ("realVideos", "bootstrap", "realVideos")]),
    ("evaluate", None, [("generator", "generatorTrain", "generator"), ("evalPrompts", "bootstrap", "evalPrompts")]),
]


def run_chain(tmp_path, campaign, command):
    store, jobs, results = tmp_path / "artifacts", tmp_path / "jobs", {}
    for stage, step, wires in CHAIN:
        req = {"campaignId": campaign, "round": 0 if stage == "bootstrap" else 1, "stage": stage, "backend": "command", "command": command,
               "inputs": {name: results[src]["outputs"][out] for name, src, out in wires}, "store": {"root": str(store)},
               "params": {"steps": 2, "stepDelayMs": 0, "seed": 7}, **({"step": step} if step else {})}
        r = subprocess.run(["node", "--import", "tsx", CHILD, json.dumps(req), str(jobs)], cwd=ROOT, env=job_env(), capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"{stage}: {r.stderr[-3000:]}"
        results[stage] = json.loads(r.stdout.strip().splitlines()[-1])
    return results


def content(ref):
    text = open(urlparse(ref["uri"]).path).read()
    try:
        return json.loads(text)
    except ValueError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_python_job_runs_every_stage_through_the_command_backend_like_the_node_job(tmp_path):
    py = run_chain(tmp_path / "py", "py-kit", [sys.executable, EXAMPLE])
    node = run_chain(tmp_path / "node", "node-job", ["node", NODE_JOB])
    for stage, _, _ in CHAIN:
        assert py[stage]["reused"] is False
        assert py[stage]["metrics"] == pytest.approx(node[stage]["metrics"], rel=1e-12), stage
        assert sorted(py[stage]["outputs"]) == sorted(node[stage]["outputs"]), stage
        for name, ref in py[stage]["outputs"].items():
            assert f"/round-000{0 if stage == 'bootstrap' else 1}/{stage}/{name}" in ref["uri"]
            assert content(ref) == content(node[stage]["outputs"][name]), f"{stage}/{name}"
    assert py["evaluate"]["metrics"]["total"] > 70   # the generator gained in generatorTrain
