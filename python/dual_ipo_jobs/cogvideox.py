"""CogVideoX with diffusers for the generator jobs: the base model from a local folder, the generator
artifact (a chain of LoRA adapters over that base), videos in and out of latent space.

A generator artifact is a folder (or its .tar, as the command backend publishes folders):

    generator.json           {"format": "dual-ipo/cogvideox-lora@1", "adapters": ["adapters/000", ...]}
    adapters/000/pytorch_lora_weights.safetensors   (CogVideoXPipeline.save_lora_weights)

Round r's generator is the base with adapters 0..r-1 fused in order: each round trains one adapter
against the previous generator as its reference, so the adapters cannot be trained independently.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tarfile
from contextlib import contextmanager
from typing import List, Optional

import numpy as np
import torch
import torch.nn.functional as F

GENERATOR_FORMAT = "dual-ipo/cogvideox-lora@1"
LORA_TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]   # the attention projections, as diffusers' CogVideoX LoRA script


@contextmanager
def stdout_to_stderr(job):
    """Libraries print (progress bars, warnings); the contract's stdout is JSON lines only."""
    real = sys.stdout
    job.channel.stream = job.channel.stream or real
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        sys.stdout = real


def job_dir(job) -> str:
    """Where work files that must survive a retry go (the job folder, not outputDir)."""
    return os.environ.get("DUAL_IPO_JOB_DIR") or os.path.dirname(os.path.abspath(job.request["resultFile"]))


def unpack(path: str, into: str) -> str:
    """A folder artifact given as a folder or as its .tar (extracted once into `into`)."""
    if os.path.isdir(path):
        return path
    if not tarfile.is_tarfile(path):
        raise ValueError(f"{path} is neither a folder nor a tar of one")
    if not os.path.isdir(into):
        tmp = into + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        with tarfile.open(path) as tar:
            tar.extractall(tmp, filter="data")
        os.replace(tmp, into)
    return into


def artifact_member(path: str, work: str, name: str, member: str) -> str:
    """A file of a folder artifact (given as a folder or its .tar), or `path` itself when it is a plain file."""
    if os.path.isdir(path) or tarfile.is_tarfile(path):
        found = os.path.join(unpack(path, os.path.join(work, name)), member)
        if not os.path.exists(found):
            raise ValueError(f"input {name} ({path}) has no {member}")
        return found
    return path


def config_digest(folder: str) -> str:
    """sha256 over a model folder's *.json files (configs, index, tokenizer): names the base a generator or
    critic was trained over without hashing gigabytes of weights."""
    import hashlib

    h = hashlib.sha256()
    for root, _dirs, files in sorted(os.walk(folder)):
        for name in sorted(files):
            if name.endswith(".json"):
                rel = os.path.relpath(os.path.join(root, name), folder)
                with open(os.path.join(root, name), "rb") as f:
                    h.update(rel.encode() + b"\0" + hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def read_generator(path: Optional[str], work: str) -> tuple[str, List[str]]:
    """(folder, adapter folders in order) of a generator artifact; no path means the bare base model."""
    if not path:
        return "", []
    folder = unpack(path, os.path.join(work, "generator-in"))
    try:
        with open(os.path.join(folder, "generator.json"), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as err:
        raise ValueError(f"generator input {path}: no readable generator.json ({err}); expected a {GENERATOR_FORMAT} artifact") from err
    if meta.get("format") != GENERATOR_FORMAT:
        raise ValueError(f"generator input {path}: format {meta.get('format')!r}, expected {GENERATOR_FORMAT}")
    return folder, [os.path.join(folder, a) for a in meta["adapters"]]


def load_pipeline(base_model: str, adapters: List[str], dtype: str = "float32", device: str = "cpu"):
    """The base from its local folder (no hub: local_files_only), then each adapter fused in order."""
    from diffusers import CogVideoXPipeline

    if not base_model or not os.path.isdir(base_model):
        raise ValueError(f"params.baseModel must be a local CogVideoX folder (model_index.json, transformer/, vae/, ...); got {base_model!r}")
    pipe = CogVideoXPipeline.from_pretrained(base_model, dtype=getattr(torch, dtype), local_files_only=True)
    for i, adapter in enumerate(adapters):
        pipe.load_lora_weights(adapter, adapter_name=f"round{i}")
        pipe.fuse_lora(components=["transformer"], lora_scale=1.0)
        pipe.unload_lora_weights()   # keeps the fused weights, drops the LoRA modules
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def write_generator(folder: str, parent_adapters: List[str], new_adapter: Optional[str], base: Optional[dict] = None) -> None:
    """The output generator: the parent's adapters copied (an artifact must stand alone) plus this round's."""
    names = []
    for i, src in enumerate(parent_adapters + ([new_adapter] if new_adapter else [])):
        name = f"adapters/{i:03d}"
        shutil.copytree(src, os.path.join(folder, name))
        names.append(name)
    with open(os.path.join(folder, "generator.json"), "w", encoding="utf-8") as f:
        json.dump({"format": GENERATOR_FORMAT, "adapters": names, **({"base": base} if base else {})}, f, indent=2)


# --- videos <-> latents --------------------------------------------------------------------------

def fit_video(video: np.ndarray, frames: int, height: int, width: int) -> torch.Tensor:
    """(T, H, W, 3) in [0, 1] -> (3, frames, height, width) in [-1, 1]: frames picked evenly, pixels resized.
    The exports' videos (the reference world's) are not CogVideoX's size."""
    v = torch.from_numpy(np.ascontiguousarray(video, dtype=np.float32))
    if v.dim() != 4 or v.shape[-1] != 3:
        raise ValueError(f"a video must be (T, H, W, 3), got {tuple(v.shape)}")
    idx = torch.linspace(0, v.shape[0] - 1, frames).round().long()
    v = v[idx].permute(0, 3, 1, 2)                                 # T, 3, H, W
    if v.shape[-2:] != (height, width):
        v = F.interpolate(v, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
    return (v.clamp(0, 1) * 2 - 1).permute(1, 0, 2, 3)


@torch.no_grad()
def encode_videos(pipe, videos: torch.Tensor, batch: int = 4) -> torch.Tensor:
    """(B, 3, T, H, W) in [-1, 1] -> scaled latents (B, T', C, h, w), the transformer's layout. The
    posterior mean, not a sample: latents are encoded once per job, so a sample would be one frozen draw anyway."""
    out = []
    for i in range(0, videos.shape[0], batch):
        x = videos[i:i + batch].to(pipe.vae.device, pipe.vae.dtype)
        out.append(pipe.vae.encode(x).latent_dist.mode() * pipe.vae.config.scaling_factor)
    return torch.cat(out).permute(0, 2, 1, 3, 4).contiguous()


@torch.no_grad()
def encode_prompts(pipe, prompts: List[str], max_sequence_length: int) -> torch.Tensor:
    emb, _ = pipe.encode_prompt(prompts, do_classifier_free_guidance=False, max_sequence_length=max_sequence_length,
                                device=pipe.transformer.device)
    return emb


def rotary(pipe, height: int, width: int, latent_frames: int):
    """CogVideoX-5b uses rotary position embeddings, 2b learned ones (None here)."""
    if not pipe.transformer.config.use_rotary_positional_embeddings:
        return None
    return pipe._prepare_rotary_positional_embeddings(height, width, latent_frames, pipe.transformer.device)
