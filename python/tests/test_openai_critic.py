"""The critic over an OpenAI-compatible chat endpoint (dual_ipo_jobs.openai_critic), against a small local
stand-in server that answers POST /v1/chat/completions from a script, and the label job using it."""
import base64
import json
import os
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from conftest import request, run_job

pytest.importorskip("imageio_ffmpeg", reason="needs the packages of scripts/setup.sh's Python section")
from dual_ipo_jobs.openai_critic import ChatClient, EndpointError, parse_answer  # noqa: E402
from dual_ipo_jobs.videos import write_mp4  # noqa: E402


class StandIn:
    """Answers each request with the next scripted (status, texts); records the request bodies."""

    def __init__(self, script):
        self.script, self.requests = list(script), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                status, texts = outer.script.pop(0) if outer.script else (200, None)
                if texts is None:   # default: alternate A and B, one text without an answer
                    texts = [("Video A moves smoothly. Answer: A", "B looks sharper.\nAnswer: B", "hmm")[i % 3] for i in range(body["n"])]
                    if "good" in json.dumps(body["messages"]):
                        texts = ["Fine motion. Answer: good"] * body["n"]
                data = json.dumps({"choices": [{"index": i, "message": {"role": "assistant", "content": t}} for i, t in enumerate(texts)]}
                                  if status == 200 else {"error": "scripted"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def standin():
    servers = []

    def make(script=()):
        servers.append(StandIn(script))
        return servers[-1]
    yield make
    for s in servers:
        s.close()


def test_parse_answer_takes_the_last_named_option():
    assert parse_answer("A is shaky... Answer: B", ["A", "B"]) == "B"
    assert parse_answer("answer: a\nAnswer: **b**", ["A", "B"]) == "B"
    assert parse_answer("Answer: Good", ["good", "normal", "bad"]) == "good"
    assert parse_answer("I cannot tell. Answer: C", ["A", "B"]) is None
    assert parse_answer("", ["A", "B"]) is None


def test_chat_retries_a_server_error_and_names_a_refusal(standin):
    s = standin([(503, None), (200, ["Answer: A", "Answer: B"])])
    client = ChatClient(s.url, "critic-7b", api_key="k")
    assert client.chat([{"role": "user", "content": "hi"}], n=2, temperature=0.5, max_tokens=9, seed=4) == ["Answer: A", "Answer: B"]
    assert len(s.requests) == 2 and s.requests[1]["path"] == "/v1/chat/completions" and s.requests[1]["auth"] == "Bearer k"
    assert {k: s.requests[1][k] for k in ("model", "n", "temperature", "max_tokens", "seed")} == {"model": "critic-7b", "n": 2, "temperature": 0.5, "max_tokens": 9, "seed": 4}
    bad = standin([(400, None)])
    with pytest.raises(EndpointError, match=r"chat/completions answered 400"):
        ChatClient(bad.url, "m").chat([{"role": "user", "content": "hi"}])
    with pytest.raises(ValueError, match="http"):
        ChatClient("localhost:8000", "m")


def test_label_job_judges_through_the_endpoint(standin, tmp_path):
    s = standin()
    d = tmp_path / "samples"
    os.makedirs(d / "videos")
    rng = np.random.default_rng(0)
    entries = []
    for c in range(2):
        write_mp4(str(d / "videos" / f"ball-c{c}.mp4"), rng.random((9, 16, 16, 3), dtype=np.float32))
        entries.append({"id": f"ball/c{c}", "promptId": "ball", "prompt": "a red ball rolls", "candidate": c, "seed": c, "path": f"videos/ball-c{c}.mp4"})
    (d / "index.json").write_text(json.dumps({"format": "dual-ipo/video-index@1", "videos": entries}))
    with tarfile.open(tmp_path / "samples.tar", "w") as tar:
        for name in ("index.json", "videos"):
            tar.add(d / name, arcname=name)
    params = {"criticModel": "/models/Qwen2-VL-7B-Instruct", "criticEndpoint": s.url, "paths": 3, "maxNewTokens": 64, "seed": 1}
    result, _, out = run_job("label", request(tmp_path / "label", "label", params, {"samples": tmp_path / "samples.tar"}))
    m = result["metrics"]
    assert m["judgements"] == (2 + 1) * 3 and m["unvoted"] == 0   # 2 videos and 1 pair, 3 dimensions each
    assert len(s.requests) == 9 and all(r["model"] == "Qwen2-VL-7B-Instruct" and r["n"] == 3 for r in s.requests)
    pair_req = next(r for r in s.requests if "Compare" in json.dumps(r["messages"]))
    parts = pair_req["messages"][0]["content"]
    urls = [p["video_url"]["url"] for p in parts if p["type"] == "video_url"]
    assert len(urls) == 2 and base64.b64decode(urls[0].split(",", 1)[1]) == (d / "videos" / "ball-c0.mp4").read_bytes()
    with open(os.path.join(out, "labels", "labels.json")) as f:
        doc = json.load(f)
    pair = next(j for j in doc["judgements"] if j["kind"] == "pair")
    assert [x["answer"] for x in pair["paths"]] == ["A", "B", None]   # the third text names no option: left out of the vote
    assert pair["vote"]["answer"] == "A" and pair["vote"]["share"] == 0.5 and pair["vote"]["tied"]
    point = next(j for j in doc["judgements"] if j["kind"] == "point")
    assert point["vote"] == {"answer": "good", "share": 1.0, "margin": 0.0, "tied": False}


def test_validate_job_measures_agreement_through_the_endpoint(standin, tmp_path):
    from dual_ipo_jobs.critic import write_critic

    s = standin()
    test = tmp_path / "humanTest"
    os.makedirs(test / "videos")
    rng = np.random.default_rng(1)
    for name in ("a", "b"):
        write_mp4(str(test / "videos" / f"{name}.mp4"), rng.random((9, 16, 16, 3), dtype=np.float32))
    pairs = [{"prompt": "a red ball rolls", "dimension": d, "videoA": "videos/a.mp4", "videoB": "videos/b.mp4", "preferred": p}
             for d, p in (("motion", "A"), ("consistency", "B"), ("faithfulness", "tie"))]
    (test / "pairwise.jsonl").write_text("".join(json.dumps(r) + "\n" for r in pairs))
    (test / "pointwise.jsonl").write_text(json.dumps({"prompt": "a red ball rolls", "dimension": "motion", "video": "videos/a.mp4", "grade": "good"}) + "\n")
    os.makedirs(tmp_path / "critic")
    write_critic(str(tmp_path / "critic"), [], None)
    with tarfile.open(tmp_path / "critic.tar", "w") as tar:
        tar.add(tmp_path / "critic" / "critic.json", arcname="critic.json")
    with tarfile.open(tmp_path / "humanTest.tar", "w") as tar:
        for name in ("pairwise.jsonl", "pointwise.jsonl", "videos"):
            tar.add(test / name, arcname=name)
    params = {"criticModel": "/models/critic", "criticEndpoint": s.url, "criticEndpointModel": "served", "paths": 3}
    result, _, _ = run_job("validate", request(tmp_path / "v", "validate", params, {"critic": tmp_path / "critic.tar", "humanTest": tmp_path / "humanTest.tar"}))
    m = result["metrics"]
    # Every pair's vote is A (A and B tied, the first seen wins); the human tie is excluded: 1 of 2 agree.
    assert (m["agreementPairwise"], m["pairsCounted"], m["agreementPointwise"], m["videosCounted"]) == (0.5, 2, 1.0, 1)
    assert {r["model"] for r in s.requests} == {"served"} and len(s.requests) == 4
