"""bootstrap, pceFilter, validate and evaluate on tiny random models built by bootstrap (tiny: true), chained as a
round chains them (each job its own process, from a request file to a result file), with sample, label,
critic_train and generator_train between them. And the stand-in scorer against the real VBench package, where a
VBench environment exists."""
import json
import math
import os
import subprocess
import tarfile

import numpy as np
import pytest

from conftest import PY, PYDIR, job_env, request, run_job

pytest.importorskip("diffusers", reason="needs the packages of scripts/setup.sh's Python section")
pytest.importorskip("torchvision", reason="Qwen2-VL's video processor needs torchvision (scripts/setup.sh pins it)")
from dual_ipo_jobs import standin_scorer  # noqa: E402
from dual_ipo_jobs.tiny import TINY_VIDEO, synthetic_video  # noqa: E402
from dual_ipo_jobs.vbench import fill_unmeasured, vbench_scores  # noqa: E402
from dual_ipo_jobs.videos import read_jsonl, read_mp4, write_mp4  # noqa: E402

SIZE = {"numFrames": TINY_VIDEO["numFrames"], "height": TINY_VIDEO["height"], "width": TINY_VIDEO["width"], "maxSequenceLength": TINY_VIDEO["maxSequenceLength"]}
CRITIC = {"paths": 2, "maxNewTokens": 4, "frames": 4}


def empty_export(root):
    """A pceFilter artifact that kept nothing."""
    folder = root / "empty-prefs"
    folder.mkdir()
    for name in ("trl-preference.jsonl", "trl-unpaired.jsonl", "pairwise.jsonl"):
        (folder / name).write_text("")
    with tarfile.open(root / "empty-prefs.tar", "w") as tar:
        for name in os.listdir(folder):
            tar.add(folder / name, arcname=name)
    return root / "empty-prefs.tar"


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """The round's stages on their predecessors' outputs: {stage: (result, channel lines, outputDir)}."""
    root = tmp_path_factory.mktemp("chain")
    data, models = root / "data", root / "models"
    boot_params = {"tiny": True, "seed": 0, "baseModel": str(models / "cogvideox"), "criticModel": str(models / "qwen2vl"),
                   "annotations": str(data / "annotations.jsonl"), "realVideos": str(data / "real-videos.jsonl"),
                   "evalPromptsFile": str(data / "eval-prompts.json"), "evalPrompts": 2, "evalSamplesPerPrompt": 2,
                   "warmStartSteps": 3, "warmStartLearningRate": 5e-3, "loraRank": 4, "frames": 4}
    out = {"bootstrap": run_job("bootstrap", request(root / "bootstrap", "bootstrap", boot_params))}
    b = out["bootstrap"][2]
    gen = {"baseModel": boot_params["baseModel"], **SIZE, "numInferenceSteps": 2}
    critic = {"criticModel": boot_params["criticModel"], **CRITIC}

    def run(stage, module, params, inputs):
        out[stage] = run_job(module, request(root / stage, stage, params, inputs))
        return out[stage][2]
    run("evaluate0", "evaluate", {**gen, "scorer": "standin"}, {"generator": b + "/generator.tar", "evalPrompts": b + "/evalPrompts.json"})
    s = run("sample", "sample", {**gen, "prompts": ["a red ball rolls", "a blue cube bounces"], "candidatesPerPrompt": 3, "seed": 1},
            {"generator": b + "/generator.tar"})
    lab = run("label", "label", {**critic, "seed": 1}, {"samples": s + "/samples.tar", "critic": b + "/critic.tar"})
    pf = run("pceFilter", "pce_filter", {**critic, "beta": 0.1, "usePce": True}, {"labels": lab + "/labels.tar", "critic": b + "/critic.tar"})
    run("criticTrain", "critic_train", {**critic, "steps": 2, "loraRank": 4, "learningRate": 1e-3},
        {"critic": b + "/critic.tar", "pseudo": pf + "/preferences.tar", "humanSeed": b + "/humanSeed.tar"})
    run("validate", "validate", {**critic, "seed": 2}, {"critic": out["criticTrain"][2] + "/critic.tar", "humanTest": b + "/humanTest.tar"})
    # The filter may keep no pair of a random critic's labels; generatorTrain then trains on all of them (usePce false).
    prefs = pf + "/preferences.tar"
    if out["pceFilter"][0]["metrics"]["kept"] == 0:
        prefs = run("pceFilterAll", "pce_filter", {**critic, "usePce": False}, {"labels": lab + "/labels.tar", "critic": b + "/critic.tar"}) + "/preferences.tar"
    out["emptyTrain"] = run_job("generator_train", request(root / "emptyTrain", "generatorTrain", {**gen, "steps": 2},
                                                           {"generator": b + "/generator.tar", "preferences": str(empty_export(root))}))
    g = run("generatorTrain", "generator_train", {**gen, "steps": 2, "batchSize": 1, "learningRate": 1e-3, "loraRank": 4, "lambdaReal": 0.5},
            {"generator": b + "/generator.tar", "preferences": prefs, "realVideos": b + "/realVideos.tar"})
    run("evaluate1", "evaluate", {**gen, "scorer": "standin", "keepVideos": True},
        {"generator": g + "/generator.tar", "evalPrompts": b + "/evalPrompts.json", "baseline": out["evaluate0"][2] + "/scores.json"})
    return out


def test_bootstrap_writes_every_output_from_local_folders_and_warm_starts_the_critic(chain):
    result, lines, out = chain["bootstrap"]
    assert sorted(result["outputs"]) == ["critic", "evalPrompts", "generator", "humanSeed", "humanTest", "realVideos"]
    m = result["metrics"]
    # tiny_data: 3 seed prompts and 3 test prompts, 3 dimensions, one pair and two graded videos each
    assert (m["humanSeedPairs"], m["humanTestPairs"], m["humanSeedPoints"], m["humanTestPoints"]) == (9, 9, 18, 18)
    assert m["realVideos"] == 6 and m["evalPrompts"] == 2 and m["warmStartSteps"] == 3
    with tarfile.open(os.path.join(out, "critic.tar")) as tar:
        meta = json.load(tar.extractfile("critic.json"))
    assert meta["adapters"] == ["adapters/000"] and len(meta["base"]["configDigest"]) == 64
    with tarfile.open(os.path.join(out, "generator.tar")) as tar:
        assert json.load(tar.extractfile("generator.json"))["adapters"] == []
    test = read_jsonl(os.path.join(out, "humanTest", "pairwise.jsonl"))
    assert all(os.path.exists(os.path.join(out, "humanTest", r["videoA"])) for r in test)   # the artifact stands alone
    ev = json.load(open(os.path.join(out, "evalPrompts.json")))
    assert ev["format"] == "dual-ipo/video-eval-prompts@1" and ev["samplesPerPrompt"] == 2 and len(ev["prompts"]) == 2


def test_bootstrap_refuses_a_bad_annotation_by_line(tmp_path):
    bad = tmp_path / "a.jsonl"
    bad.write_text(json.dumps({"prompt": "x", "dimension": "motion", "video": "nope.mp4", "grade": "good"}) + "\n")
    req = request(tmp_path / "b", "bootstrap", {"baseModel": str(tmp_path), "criticModel": str(tmp_path), "annotations": str(bad)})
    (tmp_path / "model_index.json").write_text("{}")
    (tmp_path / "config.json").write_text("{}")
    r = subprocess.run([PY, "-m", "dual_ipo_jobs.jobs.bootstrap", req], env=job_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "a.jsonl line 1: video nope.mp4 does not exist" in r.stderr


def test_pce_filter_applies_the_strict_filter_to_the_critics_implicit_rewards(chain):
    result, _, out = chain["pceFilter"]
    m = result["metrics"]
    doc = json.load(open(os.path.join(out, "preferences", "preferences.json")))
    assert m["total"] == 2 == len(doc["pairs"])   # top-1 vs bottom-1 of each of the 2 prompts
    rewards = [x for p in doc["pairs"] for x in (p["reward"], p["rewardRejected"])]
    assert doc["q"] == pytest.approx(sum(rewards) / len(rewards))   # Q over chosen and rejected responses
    for p in doc["pairs"]:
        assert p["pce"] == pytest.approx(1 / (1 + math.exp(-0.1 * (p["reward"] - doc["q"]))))
        assert p["kept"] == (p["pce"] > 0.5) and p["chosenScore"] > p["rejectedScore"]
    assert any(p["reward"] != 0 for p in doc["pairs"]), "the warm-started critic differs from its base"
    trl = read_jsonl(os.path.join(out, "preferences", "trl-preference.jsonl"))
    assert len(trl) == m["kept"] and all(os.path.exists(os.path.join(out, "preferences", r["chosen"])) for r in trl)
    assert len(read_jsonl(os.path.join(out, "preferences", "pairwise.jsonl"))) == 3 * m["kept"]


def test_generator_train_keeps_the_generator_when_nothing_passed_the_filter(chain):
    result, _, out = chain["emptyTrain"]
    assert result["metrics"]["steps"] == 0 and result["metrics"]["items"] == 0
    with tarfile.open(os.path.join(out, "generator.tar")) as tar:
        assert json.load(tar.extractfile("generator.json"))["adapters"] == []


def test_validate_measures_agreement_with_the_human_test_set(chain):
    result, lines, out = chain["validate"]
    m = result["metrics"]
    assert m["pairsCounted"] == 9 and m["videosCounted"] == 18
    doc = json.load(open(os.path.join(out, "judgements.json")))
    agreed = sum(r["critic"]["vote"]["answer"] == r["preferred"] for r in doc["pairwise"])
    assert m["agreementPairwise"] == pytest.approx(agreed / 9)
    assert 0 <= m["agreementPointwise"] <= 1 and all(len(r["critic"]["paths"]) == 2 for r in doc["pairwise"])
    assert [x["done"] for x in lines if x["type"] == "progress"] == list(range(1, 28))


def test_evaluate_scores_with_the_labelled_stand_in_and_pairs_the_gain_with_the_baseline(chain):
    base, _, bout = chain["evaluate0"]
    result, _, out = chain["evaluate1"]
    scores = json.load(open(os.path.join(out, "scores.json")))
    assert scores["scorer"] == "standin" and "NOT VBench" in scores["note"] and result["metrics"]["standIn"] == 1
    assert len(scores["unmeasured"]) == 11 and result["metrics"]["measuredDimensions"] == 5
    assert scores["total"] == pytest.approx(vbench_scores(fill_unmeasured(scores["dimensions"]))["total"])
    assert result["metrics"]["semantic"] == 0   # no semantic dimension is measured by the stand-in
    with tarfile.open(os.path.join(out, "videos.tar")) as tar:
        assert sorted(tar.getnames()) == sorted(v["file"] for v in scores["videos"])
    first = scores["videos"][0]
    video = read_mp4(os.path.join(out, "videos", first["file"]))
    assert video.shape == (9, 16, 16, 3) and first["file"] == "a red ball rolls to the left on a green field-0.mp4"
    assert first["dimensions"] == pytest.approx(standin_scorer.score_video(video))
    assert result["metrics"]["pairedGain"] == pytest.approx(result["metrics"]["total"] - base["metrics"]["total"])
    assert result["metrics"]["gainStandardError"] >= 0


def test_stand_in_scorer_ranks_what_it_measures():
    smooth, flicker, noise = (synthetic_video(k, 3) for k in ("smooth", "flicker", "noise"))
    s, f, n = (standin_scorer.score_video(v) for v in (smooth, flicker, noise))
    assert s["temporal_flickering"] > f["temporal_flickering"] > n["temporal_flickering"]
    assert s["motion_smoothness"] > n["motion_smoothness"] and s["subject_consistency"] > n["subject_consistency"]
    assert n["dynamic_degree"] == 1.0 and standin_scorer.score_video(np.repeat(smooth[:1], 9, 0))["dynamic_degree"] == 0.0


VBENCH_PY = os.environ.get("DUAL_IPO_VBENCH_PYTHON") or os.path.join(os.path.dirname(PYDIR), ".tools", "py-vbench", "bin", "python")


@pytest.mark.skipif(not os.path.isfile(VBENCH_PY), reason=f"no VBench environment at {VBENCH_PY} (DUAL_IPO_SETUP_VBENCH=1 npm run setup)")
def test_the_real_vbench_temporal_flickering_equals_the_stand_in_and_missing_weights_are_named(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    names = {}
    for i, kind in enumerate(("smooth", "flicker", "noise")):
        write_mp4(str(videos / f"clip {kind}-0.mp4"), synthetic_video(kind, i))
        names[f"clip {kind}-0.mp4"] = f"clip {kind}"
    (tmp_path / "prompts.json").write_text(json.dumps(names))
    env = {**job_env(), "VBENCH_CACHE_DIR": str(tmp_path / "weights")}
    run = lambda dims: subprocess.run([VBENCH_PY, "-m", "dual_ipo_jobs.vbench_runner", "--videos", str(videos), "--out", str(tmp_path / "out"),  # noqa: E731
                                       "--dimensions", dims, "--mode", "custom_input", "--prompts", str(tmp_path / "prompts.json")],
                                      env=env, capture_output=True, text=True, timeout=600)
    r = run("temporal_flickering")
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.load(open(tmp_path / "out" / "results.json"))["temporal_flickering"]["videos"]
    for name in names:
        assert got[name] == pytest.approx(standin_scorer.temporal_flickering(read_mp4(str(videos / name))), abs=1e-6), name
    r = run("motion_smoothness")
    assert r.returncode == 3 and "amt_model/amt-s.pth" in r.stderr


@pytest.mark.skipif(not os.path.isfile(VBENCH_PY), reason=f"no VBench environment at {VBENCH_PY} (DUAL_IPO_SETUP_VBENCH=1 npm run setup)")
def test_evaluate_with_the_real_vbench_scores_the_same_videos_as_the_stand_in(chain, tmp_path):
    b = chain["bootstrap"][2]
    boot = json.load(open(os.path.join(os.path.dirname(b), "request.json")))["params"]
    params = {"baseModel": boot["baseModel"], **SIZE, "numInferenceSteps": 2, "scorer": "vbench", "dimensions": ["temporal_flickering"],
              "vbenchMode": "custom_input", "vbenchPython": VBENCH_PY, "vbenchCacheDir": str(tmp_path / "weights")}
    result, _, out = run_job("evaluate", request(tmp_path / "e", "evaluate", params, {"generator": b + "/generator.tar", "evalPrompts": b + "/evalPrompts.json"}))
    scores = json.load(open(os.path.join(out, "scores.json")))
    standin = json.load(open(os.path.join(chain["evaluate0"][2], "scores.json")))
    assert scores["scorer"] == "vbench" and "note" not in scores and result["metrics"]["standIn"] == 0
    assert len(scores["unmeasured"]) == 15 and "temporal_flickering" not in scores["unmeasured"]
    for mine, theirs in zip(scores["videos"], standin["videos"]):
        assert mine["file"] == theirs["file"]
        assert mine["dimensions"]["temporal_flickering"] == pytest.approx(theirs["dimensions"]["temporal_flickering"], abs=1e-6)
