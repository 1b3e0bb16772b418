"""Videos as numpy arrays (T, H, W, 3) float32 in [0, 1], the layout of lib/world's Video.

Reads the project's raw format (.dipv, lib/world/video-io.ts) and the locators the pceFilter exports
use ("<uri of a .dipv file>#<video id>", lib/models/exports.ts), so TRL / Pick-a-Pic rows load
directly; and reads/writes mp4 (imageio-ffmpeg) and .npy, what the Python jobs produce.

    from dual_ipo_jobs.videos import load_video
    video = load_video(row["chosen"])            # file:///…/videos#p3/c1 -> (T, H, W, 3)
"""
from __future__ import annotations

import csv
import json
import os
import struct
from typing import Dict, List, Optional, Tuple
from urllib.parse import unquote, urlparse

import numpy as np

MAGIC = b"DIPV"


class VideoFormatError(ValueError):
    """A file that is not what its name or locator says."""


# --- .dipv ---------------------------------------------------------------------------------------

def decode_dipv(data: bytes, source: str = "<bytes>") -> Tuple[np.ndarray, dict]:
    """(videos (N, T, H, W, 3) float32 in [0, 1], header). uint8 files decode as v / 255, as in TypeScript."""
    if len(data) < 8 or data[:4] != MAGIC:
        raise VideoFormatError(f"{source}: not a DIPV video file (bad magic)")
    (length,) = struct.unpack_from("<I", data, 4)
    try:
        header = json.loads(data[8:8 + length].decode("utf-8"))
    except ValueError as err:
        raise VideoFormatError(f"{source}: DIPV header is not JSON: {err}") from err
    if header.get("version") != 1:
        raise VideoFormatError(f"{source}: DIPV version {header.get('version')} is not supported (expected 1)")
    shape = header.get("shape")
    if not (isinstance(shape, list) and len(shape) == 5 and shape[4] == 3 and all(isinstance(n, int) and n > 0 for n in shape)):
        raise VideoFormatError(f"{source}: DIPV shape {shape} is not [N, T, H, W, 3]")
    dtype = {"float32": np.dtype("<f4"), "uint8": np.dtype("u1")}.get(header.get("dtype"))
    if dtype is None:
        raise VideoFormatError(f"{source}: DIPV dtype {header.get('dtype')!r} is not float32 or uint8")
    start, count = 8 + length, int(np.prod(shape))
    if len(data) != start + count * dtype.itemsize:
        raise VideoFormatError(f"{source}: DIPV body holds {len(data) - start} bytes, expected {count * dtype.itemsize}")
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=start).reshape(shape)
    arr = arr.astype(np.float32) / 255.0 if dtype.itemsize == 1 else arr.astype(np.float32)
    ids = header.get("ids")
    if ids is not None and len(ids) != shape[0]:
        raise VideoFormatError(f"{source}: {len(ids)} ids for {shape[0]} videos")
    return arr, header


def read_dipv(path: str) -> Tuple[np.ndarray, List[str]]:
    """All videos of a .dipv file and their ids (their positions when the file has none)."""
    with open(path, "rb") as f:
        arr, header = decode_dipv(f.read(), path)
    return arr, header.get("ids") or [str(i) for i in range(arr.shape[0])]


def encode_dipv(videos: np.ndarray, ids: Optional[List[str]] = None, dtype: str = "float32") -> bytes:
    """The inverse of decode_dipv (uint8 rounds 255 * clamp(v, 0, 1), as encodeVideos does)."""
    videos = np.asarray(videos, dtype=np.float32)
    if videos.ndim != 5 or videos.shape[4] != 3:
        raise ValueError(f"encode_dipv: need (N, T, H, W, 3), got {videos.shape}")
    header = {"version": 1, "dtype": dtype, "layout": "NTHWC", "shape": list(videos.shape), **({"ids": list(ids)} if ids else {})}
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((-(8 + len(text.encode()))) % 4)
    body = (np.round(255 * np.clip(videos, 0, 1)).astype(np.uint8) if dtype == "uint8" else videos.astype("<f4")).tobytes()
    return MAGIC + struct.pack("<I", len(text.encode())) + text.encode() + body


# --- mp4 and npy ---------------------------------------------------------------------------------

def write_mp4(path: str, video: np.ndarray, fps: int = 8) -> None:
    """H.264 (yuv420p: what browsers and players open). Sizes that are not multiples of 16 are kept
    (macro_block_size=1) rather than silently resized."""
    import imageio.v2 as imageio

    frames = np.round(255 * np.clip(np.asarray(video), 0, 1)).astype(np.uint8)
    with imageio.get_writer(path, format="FFMPEG", fps=fps, codec="libx264", macro_block_size=1,
                            ffmpeg_log_level="error", output_params=["-pix_fmt", "yuv420p", "-crf", "10"]) as w:
        for frame in frames:
            w.append_data(frame)


def read_mp4(path: str) -> np.ndarray:
    import imageio.v2 as imageio

    with imageio.get_reader(path, format="FFMPEG") as r:
        return np.stack([np.asarray(f) for f in r]).astype(np.float32) / 255.0


# --- locators ------------------------------------------------------------------------------------

def _local_path(ref: str, base_dir: Optional[str]) -> str:
    if ref.startswith("file://"):
        return unquote(urlparse(ref).path)
    if "://" in ref:
        raise VideoFormatError(f"{ref}: only local files can be read here (download {urlparse(ref).scheme}:// artifacts first, "
                               "e.g. with the artifact store's CLI, and pass the local path)")
    return ref if os.path.isabs(ref) or base_dir is None else os.path.join(base_dir, ref)


class VideoLoader:
    """Resolves locators: "<.dipv uri or path>#<id>", or a path to .mp4 / .npy (relative paths from
    base_dir). Each .dipv file is decoded once; TRL / Pick-a-Pic rows point many times into one file."""

    def __init__(self, base_dir: Optional[str] = None):
        self.base_dir = base_dir
        self._dipv: Dict[str, Tuple[np.ndarray, Dict[str, int]]] = {}

    def __call__(self, locator: str) -> np.ndarray:
        ref, _, vid = locator.partition("#")
        path = _local_path(ref, self.base_dir)
        if vid:
            if path not in self._dipv:
                arr, ids = read_dipv(path)
                self._dipv[path] = (arr, {v: i for i, v in enumerate(ids)})
            arr, index = self._dipv[path]
            if vid not in index:
                raise VideoFormatError(f"{locator}: no video {vid!r} in {path} ({len(index)} videos)")
            return arr[index[vid]]
        ext = os.path.splitext(path)[1].lower()
        if ext == ".npy":
            return np.load(path).astype(np.float32)
        if ext in (".mp4", ".webm", ".mov", ".avi", ".mkv"):
            return read_mp4(path)
        if ext == ".dipv":
            arr, _ = read_dipv(path)
            if arr.shape[0] != 1:
                raise VideoFormatError(f"{locator}: {arr.shape[0]} videos in the file; name one with #<id>")
            return arr[0]
        raise VideoFormatError(f"{locator}: unknown video file type {ext!r} (want .dipv#id, .mp4 or .npy)")


def load_video(locator: str, base_dir: Optional[str] = None) -> np.ndarray:
    return VideoLoader(base_dir)(locator)


# --- the exports (lib/models/exports.ts) ---------------------------------------------------------

def read_jsonl(path: str) -> List[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_pick_a_pic(path: str) -> List[dict]:
    """Rows {caption, video_0, video_1, label_0 (float)}."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and list(rows[0]) != ["caption", "video_0", "video_1", "label_0"]:
        raise VideoFormatError(f"{path}: not a Pick-a-Pic table (columns {list(rows[0])})")
    return [{**r, "label_0": float(r["label_0"])} for r in rows]
