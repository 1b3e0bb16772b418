"""The PyTorch losses and the statistics against lib/core's golden values (tests/golden/losses.json,
written by scripts/golden-losses.ts and kept in step with lib/core by test/unit/core/golden.test.ts)."""
import json
import math
import os

import pytest

torch = pytest.importorskip("torch")   # the kit's own tests need no torch; these do

from dual_ipo_jobs import losses as L   # noqa: E402
from dual_ipo_jobs.stats import jackknife_gain, self_consistency_vote   # noqa: E402

GOLDEN = json.load(open(os.path.join(os.path.dirname(__file__), "golden", "losses.json")))
TOL = GOLDEN["tolerance"]


def t(xs):
    return torch.tensor(xs, dtype=torch.float64, requires_grad=True)


def close(actual, expected, what):
    a = torch.as_tensor(actual, dtype=torch.float64).detach().flatten().tolist()
    e = torch.as_tensor(expected, dtype=torch.float64).flatten().tolist()
    assert len(a) == len(e), f"{what}: {len(a)} values, expected {len(e)}"
    for i, (x, y) in enumerate(zip(a, e)):
        assert abs(x - y) <= TOL * max(1.0, abs(y)), f"{what}[{i}]: torch {x} != lib/core {y}"


def grads_of(loss, inputs):
    return [g if g is not None else torch.zeros_like(x) for g, x in zip(torch.autograd.grad(loss, inputs, allow_unused=True), inputs)]


def test_fixture_is_not_empty():
    assert all(len(GOLDEN[k]) > 0 for k in ("noisePredictionMse", "dpo", "pce", "srpo", "diffusionDpo", "diffusionKto", "vote", "jackknife"))


def test_noise_prediction_mse():
    for c in GOLDEN["noisePredictionMse"]:
        close(L.noise_prediction_mse(torch.tensor(c["pred"], dtype=torch.float64), torch.tensor(c["target"], dtype=torch.float64)), c["out"], "mse")


@pytest.mark.parametrize("i", range(len(GOLDEN["dpo"])))
def test_dpo(i):
    c = GOLDEN["dpo"][i]
    xs = [t(c[k]) for k in ("policyChosen", "policyRejected", "refChosen", "refRejected")]
    r = L.dpo_loss(*xs, beta=c["beta"], label_smoothing=c["labelSmoothing"])
    close(r.loss, c["out"]["loss"], "loss")
    close(r.per_sample, c["out"]["perSample"], "perSample")
    close(r.chosen_reward, c["out"]["chosenReward"], "chosenReward")
    close(r.rejected_reward, c["out"]["rejectedReward"], "rejectedReward")
    for k, (g, e) in enumerate(zip(grads_of(r.loss, xs), c["grads"])):
        close(g, e, f"grad[{k}]")


@pytest.mark.parametrize("i", range(len(GOLDEN["pce"])))
def test_mean_reward_pce_and_filter(i):
    c = GOLDEN["pce"][i]
    q = L.mean_reward(c["dataset"])
    close(q, c["out"]["mean"], "Q")
    pce = L.preference_certainty(torch.tensor(c["reward"], dtype=torch.float64), q, c["beta"])
    close(pce, c["out"]["pce"], "pce")
    assert L.pce_filter(pce).tolist() == c["out"]["keep"]


@pytest.mark.parametrize("i", range(len(GOLDEN["srpo"])))
def test_srpo(i):
    c = GOLDEN["srpo"][i]
    xs = [t(c[k]) for k in ("policyChosen", "policyRejected", "refChosen", "refRejected")]
    r = L.srpo_loss(*xs, mean=c["mean"], beta=c["beta"], label_smoothing=c["labelSmoothing"])
    for name, key in (("loss", "loss"), ("per_sample", "perSample"), ("pce", "pce"), ("chosen_reward", "chosenReward"), ("rejected_reward", "rejectedReward")):
        close(getattr(r, name), c["out"][key], key)
    for k, (g, e) in enumerate(zip(grads_of(r.loss, xs), c["grads"])):   # PCE detached: same gradients as lib/core
        close(g, e, f"grad[{k}]")


@pytest.mark.parametrize("i", range(len(GOLDEN["diffusionDpo"])))
def test_diffusion_dpo_and_eq7_total(i):
    c = GOLDEN["diffusionDpo"][i]
    xs = [t(c[k]) for k in ("modelWin", "modelLose", "refWin", "refLose")]
    r = L.diffusion_dpo_loss(*xs, beta=c["beta"])
    close(r.loss, c["out"]["loss"], "loss")
    assert r.implicit_accuracy == c["out"]["implicitAccuracy"]
    for k, (g, e) in enumerate(zip(grads_of(r.loss, xs), c["grads"])):
        close(g, e, f"grad[{k}]")
    for tot in c["totals"]:
        total = L.diffusion_dpo_total_loss(r.loss, t(c["preferredMse"]), t(c["realMse"]), tot["lambda1"], tot["lambda2"])
        close(total, tot["out"], f"total {tot}")


@pytest.mark.parametrize("i", range(len(GOLDEN["diffusionKto"])))
def test_diffusion_kto_and_eq10_total(i):
    c = GOLDEN["diffusionKto"][i]
    xs = [t(c["modelLoss"]), t(c["refLoss"])]
    r = L.diffusion_kto_loss(*xs, c["desirable"], beta=c["beta"], desirable_weight=c["desirableWeight"], undesirable_weight=c["undesirableWeight"])
    close(r.loss, c["out"]["loss"], "loss")
    close(r.per_sample, c["out"]["perSample"], "perSample")
    close(r.kl, c["out"]["kl"], "kl")
    for k, (g, e) in enumerate(zip(grads_of(r.loss, xs), c["grads"])):   # KL detached
        close(g, e, f"grad[{k}]")
    close(L.diffusion_kto_total_loss(r.loss, t(c["realMse"]), c["lambda"]), c["total"], "total")


def test_self_consistency_vote():
    for c in GOLDEN["vote"]:
        v = self_consistency_vote(c["answers"])
        assert v.answer == c["out"]["answer"] and v.tied == c["out"]["tied"], c["answers"]
        close([v.share, v.margin], [c["out"]["share"], c["out"]["margin"]], f"vote {c['answers']}")


def test_paired_jackknife_gain():
    for c in GOLDEN["jackknife"]:
        w = c["weights"]

        def wmean(v, left_out):
            keep = [i for i in range(len(v)) if i != left_out]
            return sum(v[i] * w[i] for i in keep) / sum(w[i] for i in keep)
        g = jackknife_gain(len(w), lambda k: wmean(c["cand"], k) - wmean(c["base"], k))
        assert g.n == c["out"]["n"]
        close([g.gain, g.standard_error], [c["out"]["gain"], c["out"]["standardError"]], "gain, standardError")


def test_inputs_are_refused_by_name():
    one = torch.tensor([0.1])
    with pytest.raises(ValueError, match="beta must be > 0"):
        L.dpo_loss(one, one, one, one, beta=0)
    with pytest.raises(ValueError, match="label_smoothing"):
        L.srpo_loss(one, one, one, one, mean=0.0, label_smoothing=0.5)
    with pytest.raises(ValueError, match="has 2 samples but"):
        L.diffusion_dpo_loss(one, torch.tensor([0.1, 0.2]), one, one)
    with pytest.raises(ValueError, match="non-finite"):
        L.diffusion_kto_loss(torch.tensor([math.nan]), one, [True])
    with pytest.raises(ValueError, match="real_mse is required"):
        L.diffusion_kto_total_loss(torch.tensor(0.5), None, 0.1)
    with pytest.raises(ValueError, match="at least 2 clusters"):
        jackknife_gain(1, lambda k: 0.0)


# --- VBench, preference data and agreement (standard library ports) ------------------------------

from dual_ipo_jobs.preferences import build_preference_pairs, pairwise_agreement, pointwise_agreement, split_for_kto  # noqa: E402
from dual_ipo_jobs.vbench import DIMENSIONS, fill_unmeasured, vbench_scores  # noqa: E402


def test_vbench_scores():
    for c in GOLDEN["vbench"]:
        r = vbench_scores(c["dimensions"])
        close([r["total"], r["quality"], r["semantic"]], [c["out"]["total"], c["out"]["quality"], c["out"]["semantic"]], "vbench")
    dims = dict(GOLDEN["vbench"][0]["dimensions"])
    with pytest.raises(ValueError, match="unknown dimension 'imaging quality'"):
        vbench_scores({**dims, "imaging quality": 0.5})
    with pytest.raises(ValueError, match="missing dimension scene"):
        vbench_scores({k: v for k, v in dims.items() if k != "scene"})
    with pytest.raises(ValueError, match="color must be a raw score"):
        vbench_scores({**dims, "color": 79.4})


def test_vbench_scores_of_the_measured_dimensions_only():
    for c in GOLDEN["vbenchPartial"]:
        r = vbench_scores(fill_unmeasured(c["dimensions"]))
        close([r["total"], r["quality"], r["semantic"]], [c["out"]["total"], c["out"]["quality"], c["out"]["semantic"]], "vbenchPartial")
    assert sorted(fill_unmeasured({})) == sorted(DIMENSIONS)


def test_preference_pairs_and_kto_split():
    for c in GOLDEN["preferencePairs"]:
        assert build_preference_pairs(c["groups"], c["minGap"]) == c["out"]
    for c in GOLDEN["ktoSplit"]:
        assert split_for_kto(c["samples"], c["threshold"], c["margin"]) == c["out"]


def test_agreement():
    def same(a, e):
        assert (a.agreed, a.counted, a.excluded) == (e["agreed"], e["counted"], e["excluded"])
        assert (math.isnan(a.agreement) and e["agreement"] is None) or a.agreement == pytest.approx(e["agreement"])
    for c in GOLDEN["agreement"]["pairwise"]:
        same(pairwise_agreement(c["critic"], c["human"]), c["out"])
    for c in GOLDEN["agreement"]["pointwise"]:
        same(pointwise_agreement(c["critic"], c["human"]), c["out"])
    with pytest.raises(ValueError, match=r"human\[0\] is 'C'"):
        pairwise_agreement(["A"], ["C"])
