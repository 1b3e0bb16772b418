import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)
EXAMPLE = os.path.join(PYDIR, "examples", "stage_job.py")


@pytest.fixture
def make_request(tmp_path):
    """Write a request like the worker's (activities/backends/command.ts) and return its path."""
    def make(stage="evaluate", params=None, inputs=None, checkpoint=None, **extra):
        refs = {}
        for name, value in (inputs if inputs is not None else {"generator": {"quality": 70}}).items():
            path = tmp_path / f"input-{name}.json"
            path.write_text(json.dumps(value))
            refs[name] = {"uri": f"file://{path}", "sha256": "0" * 64, "size": path.stat().st_size, "path": str(path)}
        req = {"contract": "dual-ipo/command-job@1", "campaignId": "py-test", "round": 1, "stage": stage, "step": None,
               "inputs": refs, "params": {"steps": 3, "stepDelayMs": 0, **(params or {})},
               "outputDir": str(tmp_path / "out"), "resultFile": str(tmp_path / "result.json"), "checkpoint": checkpoint, **extra}
        path = tmp_path / "request.json"
        path.write_text(json.dumps(req))
        return str(path)
    return make


def job_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("DUAL_IPO_REQUEST", "DUAL_IPO_CHANNEL")}
    env["PYTHONPATH"] = PYDIR + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


PY = sys.executable


def request(folder, stage, params, inputs=None, checkpoint=None):
    """A request for a job that reads real files: inputs are {name: path}."""
    os.makedirs(folder, exist_ok=True)
    refs = {k: {"uri": f"file://{v}", "sha256": "0" * 64, "size": os.path.getsize(v), "path": str(v)} for k, v in (inputs or {}).items()}
    req = {"contract": "dual-ipo/command-job@1", "campaignId": "py-jobs", "round": 1, "stage": stage, "step": None, "inputs": refs,
           "params": params, "outputDir": os.path.join(folder, "out"), "resultFile": os.path.join(folder, "result.json"), "checkpoint": checkpoint}
    path = os.path.join(folder, "request.json")
    with open(path, "w") as f:
        json.dump(req, f)
    return path


def run_job(module, req):
    """`python -m dual_ipo_jobs.jobs.<module> REQUEST` as its own process: (result, channel lines, outputDir)."""
    import subprocess

    r = subprocess.run([PY, "-m", f"dual_ipo_jobs.jobs.{module}", req], env=job_env(), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [json.loads(line) for line in r.stdout.splitlines()]   # stdout is JSON lines only, whatever the libraries print
    folder = os.path.dirname(req)
    with open(os.path.join(folder, "result.json")) as f:
        return json.load(f), lines, os.path.join(folder, "out")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """A tiny random CogVideoX saved with save_pretrained: the jobs load it as they load real weights."""
    pytest.importorskip("diffusers", reason="needs the generator packages of scripts/setup.sh's Python section")
    from dual_ipo_jobs.tiny import tiny_cogvideox

    path = str(tmp_path_factory.mktemp("tiny") / "cogvideox")
    tiny_cogvideox(seed=0).save_pretrained(path)
    return path
