"""The job kit: request parsing, the channel, atomic outputs, SIGTERM with a last checkpoint, resume."""
import json
import os
import signal
import subprocess
import tarfile
import time

import pytest

from dual_ipo_jobs import EXIT_TERMINATED, EXIT_USAGE, Channel, RequestError, atomic_dir, atomic_write_json, load_request, request_path
from conftest import EXAMPLE, PY, job_env


def lines(text):
    return [json.loads(l) for l in text.splitlines() if l.strip()]


# --- request -------------------------------------------------------------------------------------

def test_request_path_prefers_argv_then_env(monkeypatch):
    monkeypatch.setenv("DUAL_IPO_REQUEST", "/env/request.json")
    assert request_path(["job", "/argv/request.json"]) == "/argv/request.json"
    assert request_path(["job"]) == "/env/request.json"
    monkeypatch.delenv("DUAL_IPO_REQUEST")
    with pytest.raises(RequestError, match="DUAL_IPO_REQUEST"):
        request_path(["job"])


def test_load_request_checks_contract_fields_and_inputs(make_request, tmp_path):
    req = load_request(make_request(checkpoint={"step": 2}))
    assert req["stage"] == "evaluate" and req["checkpoint"] == {"step": 2} and req["step"] is None
    assert json.load(open(req["inputs"]["generator"]["path"])) == {"quality": 70}

    path = make_request(contract="dual-ipo/command-job@9")
    with pytest.raises(RequestError, match="unsupported contract"):
        load_request(path)
    raw = json.load(open(make_request()))
    del raw["resultFile"]
    (tmp_path / "bad.json").write_text(json.dumps(raw))
    with pytest.raises(RequestError, match="missing field.*resultFile"):
        load_request(str(tmp_path / "bad.json"))
    raw = json.load(open(make_request()))
    os.unlink(raw["inputs"]["generator"]["path"])
    (tmp_path / "gone.json").write_text(json.dumps(raw))
    with pytest.raises(RequestError, match="input 'generator' is missing"):
        load_request(str(tmp_path / "gone.json"))


def test_a_bad_request_exits_with_the_usage_code(make_request):
    r = subprocess.run([PY, EXAMPLE, make_request(contract="nope")], env=job_env(), capture_output=True, text=True)
    assert r.returncode == EXIT_USAGE and "unsupported contract" in r.stderr and r.stdout == ""


# --- channel and atomic writes -------------------------------------------------------------------

def test_channel_appends_json_lines_to_the_file_named_in_the_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DUAL_IPO_CHANNEL", str(tmp_path / "channel.jsonl"))
    ch = Channel()
    ch.send({"type": "log", "message": "a"})
    ch.send({"type": "progress", "done": 1, "total": 2})
    assert lines((tmp_path / "channel.jsonl").read_text()) == [{"type": "log", "message": "a"}, {"type": "progress", "done": 1, "total": 2}]
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError):   # NaN is not JSON: refuse it rather than break the protocol
        ch.send({"type": "progress", "done": float("nan"), "total": 1})


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path, monkeypatch):
    path = tmp_path / "sub" / "x.json"
    atomic_write_json(str(path), {"v": 1})
    assert json.loads(path.read_text()) == {"v": 1}

    def boom(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_json(str(path), {"v": 2})
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"v": 1}
    assert sorted(os.listdir(path.parent)) == ["x.json"], "no temp file left behind"


def test_atomic_dir_appears_complete_or_keeps_the_old_folder(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(str(target)) as tmp:
        open(os.path.join(tmp, "config.json"), "w").write("{}")
        os.mkdir(os.path.join(tmp, "shards"))
        open(os.path.join(tmp, "shards", "0.bin"), "wb").write(b"\0" * 8)
        assert not target.exists(), "nothing at the final path while writing"
    assert sorted(os.listdir(target)) == ["config.json", "shards"]
    with pytest.raises(RuntimeError):
        with atomic_dir(str(target)) as tmp:
            open(os.path.join(tmp, "half"), "w").write("x")
            raise RuntimeError("crashed mid-save")
    assert sorted(os.listdir(target)) == ["config.json", "shards"]
    with atomic_dir(str(target)) as tmp:
        open(os.path.join(tmp, "v2"), "w").write("x")
    assert os.listdir(target) == ["v2"]
    assert sorted(os.listdir(tmp_path)) == ["model"], "no temp or old folders left behind"


# --- whole jobs ----------------------------------------------------------------------------------

def test_example_job_writes_outputs_and_result_and_only_protocol_lines(make_request, tmp_path):
    r = subprocess.run([PY, EXAMPLE, make_request()], env=job_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    msgs = lines(r.stdout)
    assert [m["done"] for m in msgs] == [1, 2, 3] and msgs[-1]["checkpoint"] == {"step": 3}
    result = json.loads((tmp_path / "result.json").read_text())
    assert result == {"outputs": {"scores": {"path": "scores.json"}}, "metrics": {"total": 70, "quality": 71, "semantic": 66}}
    assert json.loads((tmp_path / "out" / "scores.json").read_text())["quality"] == 71


def test_channel_from_environment_keeps_stdout_free(make_request, tmp_path):
    channel = tmp_path / "channel.jsonl"
    r = subprocess.run([PY, EXAMPLE], env=job_env(DUAL_IPO_REQUEST=make_request(), DUAL_IPO_CHANNEL=str(channel)), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert [m["done"] for m in lines(channel.read_text())] == [1, 2, 3]


def _wait_for_progress(proc_out_path, n, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(proc_out_path):
            got = [m for m in lines(open(proc_out_path).read()) if m["type"] == "progress"]
            if len(got) >= n:
                return got
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} progress lines after {timeout}s")


def test_sigterm_reports_a_last_checkpoint_exits_75_and_the_retry_resumes_from_it(make_request, tmp_path):
    req = make_request(params={"steps": 40, "stepDelayMs": 100})
    out = tmp_path / "stdout.jsonl"
    with open(out, "w") as f:
        proc = subprocess.Popen([PY, EXAMPLE, req], env=job_env(), stdout=f, stderr=subprocess.PIPE, text=True)
        _wait_for_progress(out, 3)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == EXIT_TERMINATED, err
    msgs = lines(out.read_text())
    last = msgs[-1]
    assert last["type"] == "progress" and "terminated" in last["message"]
    reached = last["checkpoint"]["step"]
    assert 3 <= reached < 40 and last["checkpoint"] == msgs[-2]["checkpoint"], "the last completed step"
    assert not (tmp_path / "result.json").exists()

    # the retry: the worker puts the last checkpoint into the request
    raw = json.load(open(req))
    raw["checkpoint"] = last["checkpoint"]
    raw["params"]["stepDelayMs"] = 0
    open(req, "w").write(json.dumps(raw))
    r = subprocess.run([PY, EXAMPLE, req], env=job_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    msgs = lines(r.stdout)
    assert msgs[0] == {"type": "log", "message": f"resuming evaluate at step {reached}"}
    assert [m["done"] for m in msgs[1:]] == list(range(reached + 1, 41))
    assert json.loads((tmp_path / "result.json").read_text())["metrics"]["total"] == 70


ON_TERMINATE_JOB = """
import time
from dual_ipo_jobs import Job
with Job() as job:
    state = {"batches": 0}
    job.on_terminate = lambda: {"step": 1, "batches": state["batches"], "weights": job.write_text("ckpt/last.pt", "w")}
    job.progress(0, 1, checkpoint={"step": 0})
    while True:                      # one long step: SIGTERM must not wait for its end
        state["batches"] += 1
        time.sleep(0.01)
"""


def test_sigterm_inside_a_long_step_uses_on_terminate_for_a_fresh_checkpoint(make_request, tmp_path):
    out = tmp_path / "stdout.jsonl"
    with open(out, "w") as f:
        proc = subprocess.Popen([PY, "-c", ON_TERMINATE_JOB, make_request()], env=job_env(), stdout=f, stderr=subprocess.PIPE, text=True)
        _wait_for_progress(out, 1)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == EXIT_TERMINATED, err
    ckpt = lines(out.read_text())[-1]["checkpoint"]
    assert ckpt["batches"] > 5 and os.path.exists(ckpt["weights"])


FOLDER_JOB = """
import os
from dual_ipo_jobs import Job
with Job() as job:
    with job.output_dir("model", output="generator", archive=True) as d:
        open(os.path.join(d, "config.json"), "w").write("{}")
        os.mkdir(os.path.join(d, "unet"))
        open(os.path.join(d, "unet", "w.bin"), "wb").write(b"1234")
    with job.output_dir("lora", output="lora") as d:
        open(os.path.join(d, "adapter.bin"), "wb").write(b"5")
    job.finish(metrics={"lossFinal": float("nan")})
"""


def test_folder_outputs_and_non_finite_metrics(make_request, tmp_path):
    r = subprocess.run([PY, "-c", FOLDER_JOB, make_request()], env=job_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "result.json").read_text()
    assert '"lossFinal": NaN' in text, "the backend reads NaN as a non-finite metric"
    result = json.loads(text)
    assert result["outputs"] == {"generator": {"path": "model.tar"}, "lora": {"path": "lora"}}
    with tarfile.open(tmp_path / "out" / "model.tar") as tar:
        assert sorted(tar.getnames()) == ["config.json", "unet", "unet/w.bin"]


ESCAPE_JOB = """
from dual_ipo_jobs import Job
with Job() as job:
    job.write_text("../evil.txt", "x")
"""


def test_outputs_cannot_escape_the_output_folder_and_a_job_without_finish_fails(make_request, tmp_path):
    r = subprocess.run([PY, "-c", ESCAPE_JOB, make_request()], env=job_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "escapes the output folder" in r.stderr
    assert not (tmp_path / "evil.txt").exists()
    r = subprocess.run([PY, "-c", "from dual_ipo_jobs import Job\nwith Job() as job: pass", make_request()], env=job_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "without job.finish()" in r.stderr and not (tmp_path / "result.json").exists()


def test_progress_names_checkpoint_files_and_sigterm_repeats_them(tmp_path):
    from dual_ipo_jobs import Job
    from dual_ipo_jobs.kit import Channel
    channel = tmp_path / "channel.jsonl"
    req = tmp_path / "request.json"
    req.write_text(json.dumps({"contract": "dual-ipo/command-job@2", "campaignId": "c", "round": 1, "stage": "evaluate", "inputs": {}, "params": {},
                               "outputDir": str(tmp_path / "out"), "resultFile": str(tmp_path / "result.json"), "checkpointDir": str(tmp_path / "ckpt")}))
    job = Job(["job", str(req)], channel=Channel(str(channel)), handle_sigterm=False)
    assert job.checkpoint_dir == str(tmp_path / "ckpt")
    job.progress(1, 3, checkpoint={"step": 1}, files=["step-1.pt"])
    job.progress(2, 3, checkpoint={"step": 2})
    sent = lines(channel.read_text())
    assert sent[0]["files"] == ["step-1.pt"] and "files" not in sent[1]
    assert job.checkpoint_files == []
