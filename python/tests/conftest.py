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
