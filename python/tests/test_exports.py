"""Issue 21 item 6: the pceFilter exports (TRL preference / unpaired JSONL, Pick-a-Pic CSV) written by the
TypeScript builtin stages, read in Python: every locator resolves to the pixels TypeScript decodes, and
the TRL preference file trains the Python generatorTrain job as it is."""
import hashlib
import json
import os
import shutil
import subprocess
from urllib.parse import urlparse

import numpy as np
import pytest

from conftest import PYDIR, job_env, request, run_job
from dual_ipo_jobs.videos import (VideoFormatError, VideoLoader, decode_dipv, encode_dipv, load_video, read_dipv, read_jsonl,
                                  read_pick_a_pic)

ROOT = os.path.dirname(PYDIR)
HELPER = os.path.join(PYDIR, "tests", "helpers", "builtin-exports.ts")
needs_node = pytest.mark.skipif(not (shutil.which("node") and os.path.isdir(os.path.join(ROOT, "node_modules", "tsx"))),
                                reason="needs node with the repository's node_modules (npm run setup)")


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    store = tmp_path_factory.mktemp("store")
    r = subprocess.run(["node", "--import", "tsx", HELPER, str(store)], cwd=ROOT, env=job_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def local(ref):
    path = urlparse(ref["uri"]).path
    with open(path, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == ref["sha256"]
    return path


def check(video, expected):
    assert list(video.shape) == expected["shape"] and video.dtype == np.float32
    np.testing.assert_allclose(video.reshape(-1)[:64], expected["head"], atol=1e-7)
    assert float(video.sum(dtype=np.float64)) == pytest.approx(expected["sum"], rel=1e-9)


@needs_node
def test_every_exported_locator_loads_the_pixels_typescript_decodes(exports):
    out, decoded = exports["outputs"], exports["decoded"]
    load = VideoLoader()
    pairs = read_jsonl(local(out["trlPreference"]))
    assert len(pairs) == exports["kept"] > 0
    for row in pairs:
        assert set(row) >= {"prompt", "chosen", "rejected"} and row["chosen"] != row["rejected"]
        for loc in (row["chosen"], row["rejected"]):
            assert loc.startswith(exports["videosUri"] + "#")
            check(load(loc), decoded[loc.split("#", 1)[1]])
    points = read_jsonl(local(out["trlUnpaired"]))
    assert len(points) == exports["points"] and {p["label"] for p in points} == {True, False}
    for row in points:
        check(load(row["completion"]), decoded[row["completion"].split("#", 1)[1]])
    table = read_pick_a_pic(local(out["pickAPic"]))
    assert len(table) == len(pairs) and {r["label_0"] for r in table} <= {0.0, 1.0}
    by_prompt = {(p["prompt"], frozenset((p["chosen"], p["rejected"]))): p for p in pairs}
    for r in table:
        pair = by_prompt[(r["caption"], frozenset((r["video_0"], r["video_1"])))]
        assert (r["video_0"] if r["label_0"] == 1 else r["video_1"]) == pair["chosen"]
    # The whole file at once, as a trainer would batch it.
    arr, ids = read_dipv(urlparse(exports["videosUri"]).path)
    assert arr.shape[0] == len(ids) == len(decoded)


@needs_node
def test_the_trl_export_trains_the_python_generator_job_as_it_is(exports, tiny, tmp_path):
    from dual_ipo_jobs.tiny import TINY_VIDEO

    params = {"baseModel": tiny, **TINY_VIDEO, "method": "dpo", "steps": 2, "batchSize": 1, "learningRate": 1e-3, "loraRank": 4, "loraAlpha": 4}
    result, lines, _ = run_job("generator_train", request(tmp_path / "gt", "generatorTrain", params,
                                                          {"preferences": local(exports["outputs"]["trlPreference"])}))
    n = len({v for p in read_jsonl(local(exports["outputs"]["trlPreference"])) for v in (p["chosen"], p["rejected"])})
    assert any(m["type"] == "log" and f"encoding {n} videos" in m["message"] for m in lines)
    assert result["metrics"]["steps"] == 2 and result["metrics"]["nanCount"] == 0


def test_dipv_round_trip_and_errors(tmp_path):
    rng = np.random.default_rng(1)
    v = rng.random((2, 3, 4, 5, 3), dtype=np.float32)
    arr, header = decode_dipv(encode_dipv(v, ids=["a", "b"]))
    np.testing.assert_array_equal(arr, v)
    assert header["ids"] == ["a", "b"] and header["layout"] == "NTHWC"
    arr8, _ = decode_dipv(encode_dipv(v, dtype="uint8"))
    np.testing.assert_allclose(arr8, np.round(v * 255) / 255, atol=1e-7)
    path = tmp_path / "v.dipv"
    path.write_bytes(encode_dipv(v, ids=["a", "b"]))
    np.testing.assert_array_equal(load_video(f"file://{path}#b"), v[1])
    with pytest.raises(VideoFormatError, match="no video 'c'"):
        load_video(f"{path}#c")
    with pytest.raises(VideoFormatError, match="2 videos in the file"):
        load_video(str(path))
    with pytest.raises(VideoFormatError, match="bad magic"):
        decode_dipv(b"RIFF0000")
    with pytest.raises(VideoFormatError, match="body holds"):
        decode_dipv(encode_dipv(v)[:-4])
    with pytest.raises(VideoFormatError, match="only local files"):
        load_video("s3://bucket/videos.dipv#a")
