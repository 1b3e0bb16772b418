"""The critic served through an OpenAI-compatible chat endpoint (vLLM's `vllm serve Qwen/Qwen2-VL-7B-Instruct`,
or any server speaking POST /v1/chat/completions) instead of in-process. Standard library only (urllib).

    critic = EndpointCritic(ChatClient("http://gpu-host:8000/v1", "Qwen2-VL-7B-Instruct"), max_new_tokens=256)
    paths = critic.judge(question, ["videos/a.mp4", "videos/b.mp4"], ["A", "B"], k=5, seed=3)

Differences from the in-process critic (dual_ipo_jobs.critic): a chat API returns text, not the options'
log-probabilities, so each path's answer is parsed from the text's last "Answer: <option>" and a path without
one has answer None (left out of the vote, as docs/algorithms.md says); paths carry no `logp`. Videos go as
`video_url` data URLs of the mp4 files (vLLM's format for Qwen2-VL). The k paths are one request with n = k.
"""
from __future__ import annotations

import base64
import json
import re
import time
import urllib.error
import urllib.request
from typing import List, Optional, Sequence


class EndpointError(RuntimeError):
    """The endpoint refused the request or answered something that is not a chat completion."""


class ChatClient:
    def __init__(self, base_url: str, model: str, api_key: Optional[str] = None, timeout: float = 600.0, retries: int = 3):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"criticEndpoint must be an http(s) URL such as http://host:8000/v1, got {base_url!r}")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.api_key, self.timeout, self.retries = model, api_key, timeout, retries

    def chat(self, messages: list, n: int = 1, temperature: float = 1.0, max_tokens: int = 128, seed: Optional[int] = None) -> List[str]:
        """The n choices' texts. Connection errors and 429 / 5xx answers are retried (1 s, 2 s, ...); others raise."""
        body = {"model": self.model, "messages": messages, "n": n, "temperature": temperature, "max_tokens": max_tokens,
                **({"seed": seed} if seed is not None else {})}
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {self.api_key}"} if self.api_key else {})}
        for attempt in range(self.retries):
            req = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as r:
                    answer = json.loads(r.read().decode("utf-8"))
                break
            except urllib.error.HTTPError as err:
                detail = err.read().decode("utf-8", "replace")[:500]
                if (err.code == 429 or err.code >= 500) and attempt + 1 < self.retries:
                    time.sleep(2 ** attempt)
                    continue
                raise EndpointError(f"{self.url} answered {err.code}: {detail}") from err
            except (urllib.error.URLError, OSError) as err:
                if attempt + 1 < self.retries:
                    time.sleep(2 ** attempt)
                    continue
                raise EndpointError(f"{self.url} unreachable: {err}") from err
        try:
            texts = [c["message"]["content"] for c in answer["choices"]]
        except (KeyError, TypeError) as err:
            raise EndpointError(f"{self.url}: not a chat completion: {json.dumps(answer)[:300]}") from err
        if len(texts) != n:
            raise EndpointError(f"{self.url}: asked for {n} choices, got {len(texts)}")
        return [t or "" for t in texts]


def video_part(path: str) -> dict:
    with open(path, "rb") as f:
        return {"type": "video_url", "video_url": {"url": "data:video/mp4;base64," + base64.b64encode(f.read()).decode()}}


def parse_answer(text: str, options: Sequence[str]) -> Optional[str]:
    """The option named by the text's last "Answer: <option>" (case-insensitive), or None."""
    found = None
    for m in re.finditer(r"answer\s*:\s*\**\s*([A-Za-z]+)", text, flags=re.IGNORECASE):
        word = m.group(1)
        found = next((o for o in options if o.lower() == word.lower()), found)
    return found


class EndpointCritic:
    def __init__(self, client: ChatClient, max_new_tokens: int = 256, temperature: float = 1.0):
        self.client, self.max_new_tokens, self.temperature = client, max_new_tokens, temperature

    def judge(self, question: str, video_paths: Sequence[str], options: Sequence[str], k: int, seed: int) -> List[dict]:
        """k reasoning paths: [{rationale, answer}] (answer None when the text names no option)."""
        content = []
        for i, path in enumerate(video_paths):
            if len(video_paths) > 1:
                content.append({"type": "text", "text": f"Video {'AB'[i]}: "})
            content.append(video_part(path))
        content.append({"type": "text", "text": f"{question} End with a line \"Answer: <{' or '.join(options)}>\"."})
        texts = self.client.chat([{"role": "user", "content": content}], n=k, temperature=self.temperature,
                                 max_tokens=self.max_new_tokens, seed=seed % 2 ** 31)
        return [{"rationale": t.strip(), "answer": parse_answer(t, options)} for t in texts]
