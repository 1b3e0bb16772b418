"""A Qwen2-VL-class critic (transformers) for the label and criticTrain jobs: the paper's three
dimensions (App. A.2), a chain-of-thought prompt, k sampled reasoning paths, answers read by likelihood.

Each path samples a free rationale, then appends "Answer:" and takes the option the model finds most
likely. Reading the answer by likelihood instead of parsing free text gives every path a valid answer
(a real critic trained on CoT data would write it; a random one would not), and those log-probabilities
are also what SRPO trains (eq. 5): the response is rationale + answer.

A critic artifact is a folder (or its .tar): critic.json {"format": "dual-ipo/vlm-critic-lora@1",
"adapters": [...]}, each adapter a peft folder, merged in order over the base (params.criticModel).
"""
from __future__ import annotations

import json
import os
import shutil
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from dual_ipo_jobs.cogvideox import unpack

CRITIC_FORMAT = "dual-ipo/vlm-critic-lora@1"
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]   # the language model's attention (the vision tower stays frozen)
DIMENSIONS: Dict[str, str] = {   # App. A.2's annotation guideline
    "consistency": "semantic consistency: whether the subjects, quantity, colour, scene and style in the text appear in the video",
    "motion": "motion smoothness: whether the movements are smooth, coherent and physically plausible, without abrupt transitions",
    "faithfulness": "video faithfulness: whether people, animals and objects look real, without distortions or artifacts",
}
POINTWISE = ["good", "normal", "bad"]
POINT_SCORE = {"good": 1.0, "normal": 0.5, "bad": 0.0}
PAIRWISE = ["A", "B"]


def pointwise_question(prompt: str, dim: str) -> str:
    return (f"The video was generated from the prompt: \"{prompt}\". Judge its {DIMENSIONS[dim]}. "
            "Think step by step about what you see, then rate it good, normal or bad.")


def pairwise_question(prompt: str, dim: str) -> str:
    return (f"Both videos were generated from the prompt: \"{prompt}\". Compare their {DIMENSIONS[dim]}. "
            "Think step by step about what you see in each, then answer A or B for the better video.")


def read_critic(path: Optional[str], work: str) -> List[str]:
    if not path:
        return []
    folder = unpack(path, os.path.join(work, "critic-in"))
    with open(os.path.join(folder, "critic.json"), encoding="utf-8") as f:
        meta = json.load(f)
    if meta.get("format") != CRITIC_FORMAT:
        raise ValueError(f"critic input {path}: format {meta.get('format')!r}, expected {CRITIC_FORMAT}")
    return [os.path.join(folder, a) for a in meta["adapters"]]


def write_critic(folder: str, parents: List[str], new_adapter: Optional[str], base: Optional[dict] = None) -> None:
    names = []
    for i, src in enumerate(parents + ([new_adapter] if new_adapter else [])):
        names.append(f"adapters/{i:03d}")
        shutil.copytree(src, os.path.join(folder, names[-1]))
    with open(os.path.join(folder, "critic.json"), "w", encoding="utf-8") as f:
        json.dump({"format": CRITIC_FORMAT, "adapters": names, **({"base": base} if base else {})}, f, indent=2)


def load_critic(model_dir: str, adapters: Sequence[str] = (), dtype: str = "float32", device: str = "cpu"):
    from transformers import AutoProcessor, Qwen2VLForConditionalGeneration

    if not model_dir or not os.path.isdir(model_dir):
        raise ValueError(f"params.criticModel must be a local Qwen2-VL folder (config.json, weights, processor); got {model_dir!r}")
    model = merge_adapters(Qwen2VLForConditionalGeneration.from_pretrained(model_dir, dtype=getattr(torch, dtype), local_files_only=True), adapters)
    processor = AutoProcessor.from_pretrained(model_dir, local_files_only=True)
    return model.to(device).eval(), processor


def merge_adapters(model, adapters: Sequence[str]):
    """The critic's peft adapters merged in order (pceFilter scores the base first, then merges: one model in memory)."""
    from peft import PeftModel

    for adapter in adapters:
        model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    return model


def frames(video: np.ndarray, n: int) -> np.ndarray:
    """n frames sampled uniformly (App. F: 16), uint8 (T, H, W, 3); an even count for the temporal patch."""
    n = max(2, n - n % 2)
    idx = np.linspace(0, video.shape[0] - 1, n).round().astype(int)
    return np.round(255 * np.clip(video[idx], 0, 1)).astype(np.uint8)


class Critic:
    def __init__(self, model, processor, max_new_tokens: int = 128, temperature: float = 1.0):
        self.model, self.processor = model, processor
        self.max_new_tokens, self.temperature = max_new_tokens, temperature

    def inputs(self, question: str, videos: List[np.ndarray], response: Optional[str] = None):
        content = []
        for i, _ in enumerate(videos):
            if len(videos) > 1:
                content.append({"type": "text", "text": f"Video {'AB'[i]}: "})
            content.append({"type": "video"})
        content.append({"type": "text", "text": question})
        text = self.processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False)
        prompt_len = None
        if response is not None:
            prompt_len = self.processor(text=[text], videos=videos, return_tensors="pt", videos_kwargs={"do_sample_frames": False})["input_ids"].shape[1]
            text = text + response
        enc = self.processor(text=[text], videos=videos, return_tensors="pt", videos_kwargs={"do_sample_frames": False})
        return enc.to(self.model.device), prompt_len

    def response_logp(self, question: str, videos: List[np.ndarray], response: str) -> torch.Tensor:
        """log pi(response | question, videos): the sum over the response's tokens (with grad when enabled)."""
        enc, start = self.inputs(question, videos, response)
        logits = self.model(**enc).logits[0, start - 1:-1].float()
        target = enc["input_ids"][0, start:]
        return torch.log_softmax(logits, -1).gather(1, target[:, None]).sum()

    @torch.no_grad()
    def judge(self, question: str, videos: List[np.ndarray], options: List[str], k: int, seed: int) -> List[dict]:
        """k reasoning paths: [{rationale, answer, logp: {option: log p}}]."""
        enc, _ = self.inputs(question, videos)
        torch.manual_seed(seed)
        out = self.model.generate(**enc, do_sample=True, temperature=self.temperature, max_new_tokens=self.max_new_tokens,
                                  num_return_sequences=k, pad_token_id=self.processor.tokenizer.pad_token_id)
        paths = []
        for seq in out[:, enc["input_ids"].shape[1]:]:
            rationale = self.processor.tokenizer.decode(seq, skip_special_tokens=True).strip()
            logp = {o: float(self.response_logp(question, videos, answer_text(rationale, o))) for o in options}
            paths.append({"rationale": rationale, "answer": max(options, key=lambda o: logp[o]), "logp": logp})
        return paths


def answer_text(rationale: str, option: str) -> str:
    return f"{rationale}\nAnswer: {option}"
