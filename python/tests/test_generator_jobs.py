"""The CogVideoX generator jobs on a tiny randomly initialised CogVideoX (dual_ipo_jobs.tiny), saved to a
temp folder and loaded back with from_pretrained as real weights are, each job run as its own process
from a request file to a result file."""
import json
import math
import os
import signal
import subprocess
import tarfile

import numpy as np
import pytest

from conftest import PY, job_env, request, run_job as run

pytest.importorskip("diffusers", reason="needs the generator packages of scripts/setup.sh's Python section")
pytest.importorskip("peft", reason="needs the generator packages of scripts/setup.sh's Python section")
from dual_ipo_jobs.tiny import TINY_VIDEO  # noqa: E402
from dual_ipo_jobs.videos import read_mp4  # noqa: E402

SIZE = dict(TINY_VIDEO)


@pytest.fixture(scope="module")
def prefs(tmp_path_factory):
    """A trivial preference set: a flat grey video preferred to pixel noise, for two prompts."""
    d = tmp_path_factory.mktemp("prefs")
    rng = np.random.default_rng(0)
    np.save(d / "grey.npy", np.full((9, 16, 16, 3), 0.5, np.float32))
    np.save(d / "noise.npy", rng.random((9, 16, 16, 3), dtype=np.float32))
    (d / "prefs.jsonl").write_text("".join(json.dumps({"prompt": p, "chosen": "grey.npy", "rejected": "noise.npy"}) + "\n"
                                           for p in ["a red ball rolls", "a blue cube bounces"]))
    (d / "real.jsonl").write_text(json.dumps({"prompt": "a dog runs", "video": "grey.npy"}) + "\n")
    return d


def train_params(tiny, **kw):
    return {"baseModel": tiny, **SIZE, "method": "dpo", "steps": 8, "batchSize": 2, "learningRate": 1e-3, "loraRank": 4, "loraAlpha": 4,
            "betaDpo": 5000, "lambdaPreferred": 0.1, "lambdaReal": 0.5, "seed": 3, "checkpointEvery": 1, **kw}


def test_sample_writes_mp4s_and_an_index_and_samples_a_trained_generator(tiny, prefs, tmp_path):
    params = {"baseModel": tiny, **SIZE, "prompts": [{"id": "ball", "text": "a red ball rolls"}, "a blue cube bounces"],
              "candidatesPerPrompt": 2, "numInferenceSteps": 2, "seed": 5}
    result, lines, out = run("sample", request(tmp_path / "s", "sample", params))
    assert result["outputs"]["samples"]["path"] == "samples.tar" and result["metrics"] == {"videos": 4, "prompts": 2}
    assert [m["done"] for m in lines if m["type"] == "progress"] == [1, 2, 3, 4]
    with tarfile.open(os.path.join(out, "samples.tar")) as tar:
        names = set(tar.getnames())
        index = json.load(tar.extractfile("index.json"))
    assert index["format"] == "dual-ipo/video-index@1"
    assert [v["id"] for v in index["videos"]] == ["ball/c0", "ball/c1", "p1/c0", "p1/c1"]
    assert {v["path"] for v in index["videos"]} <= names
    videos = [read_mp4(os.path.join(out, "samples", v["path"])) for v in index["videos"]]
    assert all(v.shape == (9, 16, 16, 3) for v in videos)
    assert np.abs(videos[0] - videos[1]).mean() > 1e-3, "two candidates of one prompt have their own seeds"

    # A generator trained by generatorTrain: its adapter is fused into the base, and the videos change.
    trained, _, tout = run("generator_train", request(tmp_path / "t", "generatorTrain", train_params(tiny, steps=2, learningRate=5e-2),
                                                      {"preferences": prefs / "prefs.jsonl", "realVideos": prefs / "real.jsonl"}))
    gen = os.path.join(tout, trained["outputs"]["generator"]["path"])
    again, _, out2 = run("sample", request(tmp_path / "s2", "sample", {**params, "prompts": params["prompts"][:1], "candidatesPerPrompt": 1},
                                           {"generator": gen}))
    assert again["metrics"]["videos"] == 1
    tuned = read_mp4(os.path.join(out2, "samples", "videos", "ball-c0.mp4"))
    assert np.abs(tuned - videos[0]).mean() > 1e-3, "the adapter changed nothing"


def test_generator_train_dpo_starts_at_log2_and_learns_a_trivial_preference(tiny, prefs, tmp_path):
    result, lines, out = run("generator_train", request(tmp_path / "dpo", "generatorTrain", train_params(tiny),
                                                        {"preferences": prefs / "prefs.jsonl", "realVideos": prefs / "real.jsonl"}))
    m = result["metrics"]
    assert m["steps"] == 8 and m["nanCount"] == 0 and all(math.isfinite(m[k]) for k in ("lossFirst", "lossFinal", "lossMax"))
    with open(os.path.join(out, "losses.json")) as f:
        losses = json.load(f)
    pref = losses["preference"]
    # LoRA starts at B = 0, so the policy is the reference and eq. 6 is -log sigma(0) exactly.
    assert pref[0] == pytest.approx(math.log(2), abs=1e-6)
    assert np.mean(pref[-3:]) < math.log(2) - 0.1, pref
    assert m["implicitAccuracy"] > 0.5
    with tarfile.open(os.path.join(out, "generator.tar")) as tar:
        names = set(tar.getnames())
        meta = json.load(tar.extractfile("generator.json"))
    assert meta == {"format": "dual-ipo/cogvideox-lora@1", "adapters": ["adapters/000"]}
    assert "adapters/000/pytorch_lora_weights.safetensors" in names


def test_generator_train_kto_from_pairs_starts_at_one_half(tiny, prefs, tmp_path):
    result, _, out = run("generator_train", request(tmp_path / "kto", "generatorTrain", train_params(tiny, method="kto", steps=3, betaKto=1000, lambdaReal=0.2),
                                                    {"preferences": prefs / "prefs.jsonl", "realVideos": prefs / "real.jsonl"}))
    with open(os.path.join(out, "losses.json")) as f:
        pref = json.load(f)["preference"]
    assert pref[0] == pytest.approx(0.5, abs=1e-6)   # eq. 8 at the reference: 1 - sigma(0)
    assert result["metrics"]["nanCount"] == 0 and all(math.isfinite(x) for x in pref)


def test_generator_train_resumes_after_sigterm_on_the_same_trajectory(tiny, prefs, tmp_path):
    inputs = {"preferences": prefs / "prefs.jsonl", "realVideos": prefs / "real.jsonl"}
    params = train_params(tiny, steps=5)
    whole, _, whole_out = run("generator_train", request(tmp_path / "whole", "generatorTrain", params, inputs))

    req = request(tmp_path / "cut", "generatorTrain", params, inputs)
    proc = subprocess.Popen([PY, "-m", "dual_ipo_jobs.jobs.generator_train", req], env=job_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(json.loads(line))
        if lines[-1].get("done") == 2:
            proc.send_signal(signal.SIGTERM)
            break
    lines += [json.loads(line) for line in proc.stdout]
    proc.wait(timeout=300)
    assert proc.returncode == 75, proc.stderr.read()[-2000:]
    checkpoint = lines[-1]["checkpoint"]
    assert checkpoint["step"] >= 2 and os.path.exists(checkpoint["path"])

    resumed, rlines, out = run("generator_train", request(tmp_path / "cut", "generatorTrain", params, inputs, checkpoint=checkpoint))
    assert any(m["type"] == "log" and "resumed at step" in m["message"] for m in rlines)
    assert [m["done"] for m in rlines if m["type"] == "progress"][0] == checkpoint["step"] + 1
    with open(os.path.join(out, "losses.json")) as a, open(os.path.join(whole_out, "losses.json")) as b:
        assert json.load(a)["losses"] == pytest.approx(json.load(b)["losses"], rel=1e-5)
    from safetensors.numpy import load

    def weights(o):
        with tarfile.open(os.path.join(o, "generator.tar")) as tar:
            return load(tar.extractfile("adapters/000/pytorch_lora_weights.safetensors").read())
    w1, w2 = weights(out), weights(whole_out)
    assert sorted(w1) == sorted(w2) and len(w1) > 0
    for k in w1:
        np.testing.assert_allclose(w1[k], w2[k], rtol=1e-4, atol=1e-6)
    assert resumed["metrics"]["lossFinal"] == pytest.approx(whole["metrics"]["lossFinal"], rel=1e-5)


def test_sample_through_the_typescript_command_backend_publishes_the_tar(tiny, tmp_path):
    import shutil
    from urllib.parse import urlparse

    from conftest import PYDIR

    root = os.path.dirname(PYDIR)
    child = os.path.join(root, "test", "helpers", "run-stage-child.ts")
    if not (shutil.which("node") and os.path.isdir(os.path.join(root, "node_modules", "tsx")) and os.path.exists(child)):
        pytest.skip("needs node with the repository's node_modules (npm run setup)")
    req = {"campaignId": "py-sample", "round": 1, "stage": "sample", "backend": "command", "command": [PY, "-m", "dual_ipo_jobs.jobs.sample"],
           "inputs": {}, "store": {"root": str(tmp_path / "store")},
           "params": {"baseModel": tiny, **SIZE, "prompts": ["a red ball rolls"], "numInferenceSteps": 2, "seed": 5}}
    r = subprocess.run(["node", "--import", "tsx", child, json.dumps(req), str(tmp_path / "jobs")], cwd=root, env=job_env(),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    ref = result["outputs"]["samples"]
    assert ref["uri"].endswith("/sample/samples") and result["metrics"]["videos"] == 1
    with tarfile.open(urlparse(ref["uri"]).path) as tar:
        index = json.load(tar.extractfile("index.json"))
        assert index["videos"][0]["path"] in tar.getnames()
