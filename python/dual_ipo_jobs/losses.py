"""The paper's losses in PyTorch, matching lib/core (TypeScript, tfjs) value for value: both are
checked against python/tests/golden/losses.json (scripts/golden-losses.ts writes it from lib/core).

Inputs are per-sample 1-D tensors: log-probabilities for DPO/SRPO, per-sample noise-prediction MSEs
(noise_prediction_mse) for the diffusion losses. Every loss is a mean over the batch.
"""
from typing import NamedTuple, Optional, Sequence

import torch
import torch.nn.functional as F


def _batch(fn: str, **xs: torch.Tensor) -> int:
    n = None
    for name, x in xs.items():
        if not torch.is_tensor(x) or x.dim() != 1:
            raise ValueError(f"{fn}: {name} must be a 1-D tensor (one value per sample)")
        if not torch.isfinite(x).all():
            raise ValueError(f"{fn}: {name} contains a non-finite value")
        if n is None:
            n, first = x.shape[0], name
        elif x.shape[0] != n:
            raise ValueError(f"{fn}: {name} has {x.shape[0]} samples but {first} has {n}")
    if n == 0:
        raise ValueError(f"{fn}: empty batch")
    return n


def _positive(fn: str, **xs: float) -> None:
    for name, v in xs.items():
        if not v > 0:
            raise ValueError(f"{fn}: {name} must be > 0, got {v}")


# --- DPO, SRPO, PCE (section 3.2) ----------------------------------------------------------------

class DpoLoss(NamedTuple):
    loss: torch.Tensor            # scalar
    per_sample: torch.Tensor
    chosen_reward: torch.Tensor   # beta * (log pi_w - log ref_w), detached
    rejected_reward: torch.Tensor


def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta: float = 0.1, label_smoothing: float = 0.0) -> DpoLoss:
    """Eq. 1 / L_DPO as TRL's "sigmoid" loss: -(1-eps) log sigma(beta h) - eps log sigma(-beta h),
    h = (log pi_w - log ref_w) - (log pi_l - log ref_l); eps > 0 is cDPO's label smoothing."""
    _batch("dpo_loss", policy_chosen=policy_chosen, policy_rejected=policy_rejected, ref_chosen=ref_chosen, ref_rejected=ref_rejected)
    _positive("dpo_loss", beta=beta)
    if not 0 <= label_smoothing < 0.5:
        raise ValueError(f"dpo_loss: label_smoothing must be in [0, 0.5), got {label_smoothing}")
    chosen, rejected = policy_chosen - ref_chosen, policy_rejected - ref_rejected
    logits = beta * (chosen - rejected)
    per_sample = (1 - label_smoothing) * F.softplus(-logits) + label_smoothing * F.softplus(logits)
    return DpoLoss(per_sample.mean(), per_sample, (beta * chosen).detach(), (beta * rejected).detach())


def implicit_reward(policy_logp, ref_logp) -> torch.Tensor:
    """Eq. 2: R(y|x) = log pi_theta(y|x) - log pi_ref(y|x)."""
    _batch("implicit_reward", policy_logp=policy_logp, ref_logp=ref_logp)
    return policy_logp - ref_logp


def mean_reward(rewards) -> float:
    """Q = E_(x,y)[R(y|x)] over the whole dataset, once per SRPO iteration: a plain (detached) number."""
    r = torch.as_tensor(rewards, dtype=torch.float64)
    _batch("mean_reward", rewards=r)
    return float(r.mean())


def preference_certainty(reward, mean: float, beta: float) -> torch.Tensor:
    """Eqs. 3/4: PCE(y_w|x) = P(R(y_w|x) > Q), read as Bradley-Terry against the mean: sigma(beta (R - Q))."""
    _batch("preference_certainty", reward=reward)
    _positive("preference_certainty", beta=beta)
    return torch.sigmoid(beta * (reward - mean))


def pce_filter(pce) -> torch.Tensor:
    """Section 3.2: keep a pseudo-label iff PCE > 0.5 (strict)."""
    return torch.as_tensor(pce) > 0.5


class SrpoLoss(NamedTuple):
    loss: torch.Tensor
    per_sample: torch.Tensor
    pce: torch.Tensor             # detached weights
    chosen_reward: torch.Tensor
    rejected_reward: torch.Tensor


def srpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, mean: float, beta: float = 0.1, label_smoothing: float = 0.0) -> SrpoLoss:
    """Eq. 5: L_SRPO = E[PCE(y_w|x) * L_DPO], PCE detached (a weight, not a target) and not renormalised."""
    dpo = dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta, label_smoothing)
    pce = preference_certainty(policy_chosen - ref_chosen, mean, beta).detach()
    per_sample = pce * dpo.per_sample
    return SrpoLoss(per_sample.mean(), per_sample, pce, dpo.chosen_reward, dpo.rejected_reward)


# --- Diffusion-DPO (section 3.3, eqs. 6-7) -------------------------------------------------------

def noise_prediction_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """||eps - eps_theta(x_t, t)||^2 as a per-element mean over all non-batch dims (not eq. 6's sum,
    so beta does not depend on the latent size, as in the Diffusion-DPO reference code)."""
    if pred.shape != target.shape or pred.dim() < 2:
        raise ValueError(f"noise_prediction_mse: need batched tensors of one shape, got {tuple(pred.shape)} and {tuple(target.shape)}")
    return (pred - target).pow(2).flatten(1).mean(1)


class DiffusionDpoLoss(NamedTuple):
    loss: torch.Tensor
    implicit_accuracy: float   # share of pairs with inside > 0 (ties count 0)


def diffusion_dpo_loss(model_win, model_lose, ref_win, ref_lose, beta: float = 5000.0) -> DiffusionDpoLoss:
    """Eq. 6: -log sigma(-(beta/2) [(m_w - r_w) - (m_l - r_l)]), m, r per-sample MSEs on shared t and eps.
    Eq. 6's T * omega(lambda_t) is folded into beta (Salesforce's DiffusionDPO: inside = -0.5 * beta * diff)."""
    n = _batch("diffusion_dpo_loss", model_win=model_win, model_lose=model_lose, ref_win=ref_win, ref_lose=ref_lose)
    _positive("diffusion_dpo_loss", beta=beta)
    inside = -0.5 * beta * ((model_win - model_lose) - (ref_win - ref_lose))
    return DiffusionDpoLoss(F.softplus(-inside).mean(), float((inside > 0).sum()) / n)


def diffusion_nll_loss(per_sample_mse) -> torch.Tensor:
    """Eqs. 7/10's E_D[-log p_theta(y|x)] as the plain diffusion loss: the mean per-sample MSE."""
    _batch("diffusion_nll_loss", per_sample_mse=per_sample_mse)
    return per_sample_mse.mean()


def _add_nll(fn: str, loss, mse: Optional[torch.Tensor], lam: float, name: str):
    if lam < 0:
        raise ValueError(f"{fn}: lambda for {name} must be >= 0, got {lam}")
    if lam == 0:
        return loss
    if mse is None:
        raise ValueError(f"{fn}: {name} is required when its lambda is {lam}")
    return loss + lam * diffusion_nll_loss(mse)


def diffusion_dpo_total_loss(l_dpo, preferred_mse, real_mse, lambda1: float, lambda2: float) -> torch.Tensor:
    """Eq. 7: L_dpo + lambda_1 E_sample[-log p(y_w|x)] + lambda_2 E_real[-log p(y|x)] (no default lambdas: the paper gives none)."""
    loss = _add_nll("diffusion_dpo_total_loss", l_dpo, preferred_mse, lambda1, "preferred_mse")
    return _add_nll("diffusion_dpo_total_loss", loss, real_mse, lambda2, "real_mse")


# --- Diffusion-KTO (section 3.3, eqs. 8-10) ------------------------------------------------------

class DiffusionKtoLoss(NamedTuple):
    loss: torch.Tensor
    per_sample: torch.Tensor
    kl: float   # the detached reference point: Q_ref = beta * kl (eq. 9)


def diffusion_kto_loss(model_loss, ref_loss, desirable: Sequence[bool], beta: float = 1000.0,
                       desirable_weight: float = 1.0, undesirable_weight: float = 1.0) -> DiffusionKtoLoss:
    """Eqs. 8-9 as the Diffusion-KTO reference code (sigmoid utility): g = ref_mse - model_mse,
    KL = max(0, mean_batch g) detached, L_i = lambda_y (1 - sigma(s_i beta (g_i - KL))), s = +1/-1."""
    n = _batch("diffusion_kto_loss", model_loss=model_loss, ref_loss=ref_loss)
    if len(desirable) != n:
        raise ValueError(f"diffusion_kto_loss: desirable has {len(desirable)} labels but model_loss has {n} samples")
    _positive("diffusion_kto_loss", beta=beta, desirable_weight=desirable_weight, undesirable_weight=undesirable_weight)
    g = ref_loss - model_loss
    kl = max(0.0, float(g.detach().mean()))
    d = torch.as_tensor(list(desirable), dtype=torch.bool, device=g.device)
    s = torch.where(d, 1.0, -1.0).to(g.dtype)
    lam = torch.where(d, desirable_weight, undesirable_weight).to(g.dtype)
    per_sample = lam * (1 - torch.sigmoid(s * beta * (g - kl)))
    return DiffusionKtoLoss(per_sample.mean(), per_sample, kl)


def diffusion_kto_total_loss(l_kto, real_mse, lam: float) -> torch.Tensor:
    """Eq. 10: L_kto + lambda E_real[-log p(y|x)]."""
    return _add_nll("diffusion_kto_total_loss", l_kto, real_mse, lam, "real_mse")
