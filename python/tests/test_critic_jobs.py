"""The VLM critic jobs on a tiny randomly initialised Qwen2-VL (dual_ipo_jobs.tiny.tiny_qwen2vl), saved to a
temp folder and loaded back with from_pretrained, each job run as its own process (request -> result)."""
import json
import math
import os
import tarfile

import numpy as np
import pytest

from conftest import request, run_job

pytest.importorskip("transformers", reason="needs the packages of scripts/setup.sh's Python section")
pytest.importorskip("torchvision", reason="Qwen2-VL's video processor needs torchvision (scripts/setup.sh pins it)")
from dual_ipo_jobs.critic import DIMENSIONS, POINTWISE  # noqa: E402
from dual_ipo_jobs.stats import self_consistency_vote  # noqa: E402
from dual_ipo_jobs.videos import load_video, read_jsonl, write_mp4  # noqa: E402


@pytest.fixture(scope="module")
def qwen(tmp_path_factory):
    from dual_ipo_jobs.tiny import tiny_qwen2vl

    path = str(tmp_path_factory.mktemp("qwen") / "qwen2vl")
    model, processor = tiny_qwen2vl(seed=0)
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    """A sample-job artifact (index.json + mp4s, as samples.tar): 2 prompts x 2 candidates."""
    d = tmp_path_factory.mktemp("samples")
    rng = np.random.default_rng(2)
    os.makedirs(d / "videos")
    entries = []
    for pid, text in (("ball", "a red ball rolls"), ("cube", "a blue cube bounces")):
        for c in range(2):
            write_mp4(str(d / "videos" / f"{pid}-c{c}.mp4"), rng.random((9, 16, 16, 3), dtype=np.float32))
            entries.append({"id": f"{pid}/c{c}", "promptId": pid, "prompt": text, "candidate": c, "seed": c, "path": f"videos/{pid}-c{c}.mp4"})
    (d / "index.json").write_text(json.dumps({"format": "dual-ipo/video-index@1", "fps": 8, "numFrames": 9, "height": 16, "width": 16, "videos": entries}))
    with tarfile.open(d / "samples.tar", "w") as tar:
        for name in ("index.json", "videos"):
            tar.add(d / name, arcname=name)
    return d / "samples.tar"


def label_params(qwen, **kw):
    return {"criticModel": qwen, "paths": 3, "maxNewTokens": 6, "frames": 4, "seed": 1, **kw}


@pytest.fixture(scope="module")
def labels(qwen, samples, tmp_path_factory):
    d = tmp_path_factory.mktemp("label")
    result, lines, out = run_job("label", request(d, "label", label_params(qwen), {"samples": samples}))
    return result, lines, out


def test_label_judges_pointwise_and_pairwise_with_k_paths_and_a_vote(labels):
    result, lines, out = labels
    m = result["metrics"]
    assert m["videos"] == 4 and m["pairs"] == 2 and m["judgements"] == (4 + 2) * len(DIMENSIONS)
    assert 1 / 3 <= m["meanShare"] <= 1
    assert [x["done"] for x in lines if x["type"] == "progress"] == list(range(1, 19))
    folder = os.path.join(out, "labels")
    with open(os.path.join(folder, "labels.json")) as f:
        doc = json.load(f)
    for j in doc["judgements"]:
        assert len(j["paths"]) == 3
        options = POINTWISE if j["kind"] == "point" else ["A", "B"]
        for path in j["paths"]:
            assert sorted(path["logp"]) == sorted(options) and all(math.isfinite(v) and v < 0 for v in path["logp"].values())
            assert path["answer"] == max(options, key=lambda o: path["logp"][o])
        assert j["vote"] == self_consistency_vote([x["answer"] for x in j["paths"]])._asdict()
        assert DIMENSIONS[j["dimension"]].split(":")[0] in j["question"]
    pairs = read_jsonl(os.path.join(folder, "pairwise.jsonl"))
    assert len(pairs) == 6 and {r["preferred"] for r in pairs} <= {"A", "B"} and {r["dimension"] for r in pairs} == set(DIMENSIONS)
    assert load_video(pairs[0]["videoA"], folder).shape == (9, 16, 16, 3)   # locators resolve inside the artifact
    points = read_jsonl(os.path.join(folder, "pointwise.jsonl"))
    assert len(points) == 12 and all(r["score"] in (0.0, 0.5, 1.0) for r in points)
    assert os.path.exists(os.path.join(out, "labels.tar"))


def test_critic_train_srpo_weights_by_pce_and_its_critic_labels_again(qwen, samples, labels, tmp_path):
    _, _, out = labels
    params = {"criticModel": qwen, "loss": "srpo", "beta": 1.0, "steps": 6, "batchSize": 2, "learningRate": 3e-2, "loraRank": 4,
              "loraAlpha": 8, "frames": 4, "seed": 0, "checkpointEvery": 3}
    result, lines, tout = run_job("critic_train", request(tmp_path / "srpo", "criticTrain", params, {"pseudo": os.path.join(out, "labels.tar")}))
    m = result["metrics"]
    with open(os.path.join(tout, "losses.json")) as f:
        state = json.load(f)
    # First iteration: the policy is the reference, so every implicit reward and Q are 0 and PCE = sigma(0).
    assert m["q"] == 0.0 and state["pce"][:2] == [0.5, 0.5]
    assert state["losses"][0] == pytest.approx(0.5 * math.log(2), abs=1e-6)
    assert np.mean(state["losses"][-2:]) < state["losses"][0] - 0.02, state["losses"]
    assert m["nanCount"] == 0 and m["steps"] == 6 and m["meanPce"] > 0.5   # the chosen answers' reward rose above Q
    assert [x["checkpoint"]["step"] for x in lines if x.get("checkpoint")] == [3, 6]
    with tarfile.open(os.path.join(tout, "critic.tar")) as tar:
        assert json.load(tar.extractfile("critic.json")) == {"format": "dual-ipo/vlm-critic-lora@1", "adapters": ["adapters/000"]}

    # The trained critic (its adapter merged over the base) labels again, with other log-probabilities.
    again, _, aout = run_job("label", request(tmp_path / "relabel", "label", label_params(qwen, mode="pairwise"),
                                              {"samples": samples, "critic": os.path.join(tout, "critic.tar")}))
    assert again["metrics"]["judgements"] == 6
    with open(os.path.join(aout, "labels", "labels.json")) as f, open(os.path.join(out, "labels", "labels.json")) as g:
        new, old = json.load(f)["judgements"], [j for j in json.load(g)["judgements"] if j["kind"] == "pair"]
    assert [j["videos"] for j in new] == [j["videos"] for j in old]
    assert any(abs(a["paths"][0]["logp"]["A"] - b["paths"][0]["logp"]["A"]) > 1e-4 for a, b in zip(new, old))


def test_critic_train_dpo_with_a_human_seed(qwen, labels, tmp_path):
    _, _, out = labels
    folder = os.path.join(out, "labels")
    human = tmp_path / "human.jsonl"
    human.write_text(json.dumps({"prompt": "a red ball rolls", "dimension": "motion", "videoA": os.path.join(folder, "videos/ball-c0.mp4"),
                                 "videoB": os.path.join(folder, "videos/ball-c1.mp4"), "preferred": "B"}) + "\n")
    params = {"criticModel": qwen, "loss": "dpo", "steps": 2, "batchSize": 2, "learningRate": 1e-2, "loraRank": 4, "frames": 4}
    result, _, _ = run_job("critic_train", request(tmp_path / "dpo", "criticTrain", params,
                                                   {"pseudo": os.path.join(out, "labels.tar"), "humanSeed": human}))
    # Plain DPO at the reference: -log sigma(0) whichever rows the batch drew.
    assert result["metrics"]["lossFirst"] == pytest.approx(math.log(2), abs=1e-6)
    assert result["metrics"]["nanCount"] == 0


def test_label_resumes_after_sigterm_with_the_same_judgements(qwen, samples, labels, tmp_path):
    import signal
    import subprocess

    from conftest import PY, job_env

    params = label_params(qwen)
    req = request(tmp_path / "cut", "label", params, {"samples": samples})
    proc = subprocess.Popen([PY, "-m", "dual_ipo_jobs.jobs.label", req], env=job_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(json.loads(line))
        if lines[-1].get("done") == 3:
            proc.send_signal(signal.SIGTERM)
            break
    lines += [json.loads(line) for line in proc.stdout]
    proc.wait(timeout=300)
    assert proc.returncode == 75, proc.stderr.read()[-2000:]
    checkpoint = lines[-1]["checkpoint"]
    assert checkpoint["judged"] >= 3
    result, rlines, out = run_job("label", request(tmp_path / "cut", "label", params, {"samples": samples}, checkpoint=checkpoint))
    kept = [m["message"] for m in rlines if m["type"] == "log" and m["message"].startswith("resumed:")]
    assert kept and int(kept[0].split()[1]) >= 3, rlines[:3]
    with open(os.path.join(out, "labels", "labels.json")) as f, open(os.path.join(labels[2], "labels", "labels.json")) as g:
        assert json.load(f)["judgements"] == json.load(g)["judgements"]
    assert result["metrics"] == labels[0]["metrics"]
