"""The dual-ipo command-job contract (docs/command-backend.md) for Python jobs. Standard library only.

    from dual_ipo_jobs import Job

    with Job() as job:                                  # reads the request, installs the SIGTERM handler
        start = (job.checkpoint or {}).get("step", 0)   # resume point from the request
        for step in range(start, 10):
            train_one_step()
            job.progress(step + 1, 10, checkpoint={"step": step + 1})
        job.write_json("scores.json", {...}, output="scores")
        job.finish(metrics={"total": 71.2})            # the result file, atomically; then exit 0

Progress and log messages are JSON lines on $DUAL_IPO_CHANNEL (a file, appended to) when it is set,
on stdout otherwise. On SIGTERM the job stops where it is, reports its last checkpoint (or the one
`job.on_terminate()` returns) and exits with EXIT_TERMINATED.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import signal
import sys
import tarfile
import tempfile
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional

CONTRACT = "dual-ipo/command-job@2"
# @2 only adds to @1 (the channel, folder outputs, checkpoint files, jobKey, checkpointDir): both are read.
CONTRACTS = ("dual-ipo/command-job@1", CONTRACT)
EXIT_USAGE = 2         # no request, wrong contract, a malformed request: retrying will not help
EXIT_TERMINATED = 75   # EX_TEMPFAIL: stopped by SIGTERM after reporting a checkpoint; a retry resumes
REQUIRED = ("contract", "campaignId", "round", "stage", "inputs", "params", "outputDir", "resultFile")


class RequestError(ValueError):
    """The request file is missing or does not follow the contract."""


class Terminated(BaseException):
    """Raised in the main thread by the SIGTERM handler (a BaseException, so `except Exception` lets it through)."""


# --- atomic writes -------------------------------------------------------------------------------

def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str, data: bytes) -> str:
    """Write `data` to a temp file beside `path`, fsync it, rename it over `path`, fsync the folder."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)
    return path


def atomic_write_text(path: str, text: str) -> str:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str, value: Any) -> str:
    # allow_nan: the backend reads NaN/Infinity metrics as non-finite (docs: "3. The result file").
    return atomic_write_text(path, json.dumps(value, indent=2, allow_nan=True) + "\n")


@contextmanager
def atomic_dir(path: str) -> Iterator[str]:
    """Yield a temp folder beside `path`; on success fsync its files and rename it to `path`
    (replacing an older one), so `path` is either absent, the old folder, or complete."""
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        yield tmp
        for root, _dirs, files in os.walk(tmp):
            for name in files:
                fd = os.open(os.path.join(root, name), os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            _fsync_dir(root)
        if os.path.isdir(path):
            old = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(path)}.", suffix=".old")
            os.replace(path, os.path.join(old, "x"))
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
        _fsync_dir(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# --- the request ---------------------------------------------------------------------------------

def request_path(argv: Optional[list] = None) -> str:
    """argv[1] when given, else $DUAL_IPO_REQUEST (the worker sets it)."""
    argv = sys.argv if argv is None else argv
    path = argv[1] if len(argv) > 1 else os.environ.get("DUAL_IPO_REQUEST")
    if not path:
        raise RequestError("no request: pass its path as the first argument or set DUAL_IPO_REQUEST")
    return path


def load_request(path: str) -> dict:
    """Read and check a request file: the contract, the required fields, and that each input is a local file."""
    try:
        with open(path, encoding="utf-8") as f:
            req = json.load(f)
    except (OSError, ValueError) as err:
        raise RequestError(f"cannot read the request {path}: {err}") from err
    if not isinstance(req, dict):
        raise RequestError(f"{path}: the request must be a JSON object")
    if req.get("contract") not in CONTRACTS:
        raise RequestError(f"{path}: unsupported contract {req.get('contract')!r} (this kit speaks {', '.join(CONTRACTS)})")
    missing = [k for k in REQUIRED if k not in req]
    if missing:
        raise RequestError(f"{path}: missing field(s) {', '.join(missing)}")
    if not isinstance(req["inputs"], dict) or not isinstance(req["params"], dict):
        raise RequestError(f"{path}: inputs and params must be objects")
    for name, ref in req["inputs"].items():
        if not isinstance(ref, dict) or not isinstance(ref.get("path"), str):
            raise RequestError(f"{path}: input {name!r} has no local path")
        if not os.path.exists(ref["path"]):
            raise RequestError(f"{path}: input {name!r} is missing at {ref['path']}")
    req.setdefault("step", None)
    req.setdefault("checkpoint", None)
    return req


# --- the channel ---------------------------------------------------------------------------------

class Channel:
    """JSON lines to $DUAL_IPO_CHANNEL (appended, one write per line) when set, else to stdout."""

    def __init__(self, path: Optional[str] = None, stream=None):
        self.path = path if path is not None else os.environ.get("DUAL_IPO_CHANNEL") or None
        self.stream = stream

    def send(self, message: dict) -> None:
        line = json.dumps(message, allow_nan=False, separators=(",", ":")) + "\n"
        if self.path:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
        else:
            stream = self.stream or sys.stdout
            stream.write(line)
            stream.flush()


# --- the job -------------------------------------------------------------------------------------

class Job:
    """One run of a stage program. Use as a context manager: errors in the body exit non-zero (the
    stage is retried), SIGTERM reports a checkpoint and exits EXIT_TERMINATED, a finished job exits 0."""

    def __init__(self, argv: Optional[list] = None, channel: Optional[Channel] = None, handle_sigterm: bool = True):
        try:
            self.request_path = request_path(argv)
            self.request = load_request(self.request_path)
        except RequestError as err:
            print(f"dual_ipo_jobs: {err}", file=sys.stderr)
            raise SystemExit(EXIT_USAGE) from err
        self.channel = channel or Channel()
        self.stage: str = self.request["stage"]
        self.round: int = self.request["round"]
        self.step = self.request["step"]
        self.params: dict = self.request["params"]
        self.inputs: dict = self.request["inputs"]
        self.output_root: str = os.path.abspath(self.request["outputDir"])
        self.checkpoint = self.request["checkpoint"]   # where to resume; updated by progress()
        self.checkpoint_files: list = []                # the files the last checkpoint named
        # contract @2: where checkpoint files go (restored there before a retry starts)
        self.checkpoint_dir: Optional[str] = self.request.get("checkpointDir")
        self.done, self.total = 0, 1
        self.outputs: dict = {}
        self.on_terminate: Optional[Callable[[], Any]] = None   # returns a fresh checkpoint on SIGTERM
        self.finished = False
        os.makedirs(self.output_root, exist_ok=True)
        if handle_sigterm:
            signal.signal(signal.SIGTERM, self._sigterm)

    @staticmethod
    def _sigterm(signum, frame):
        raise Terminated()

    # messages
    def progress(self, done: float, total: float, message: Optional[str] = None, checkpoint: Any = None, files: Optional[list] = None) -> None:
        """`files`: checkpoint files relative to the request's checkpointDir (write them first, atomically);
        the worker uploads them before the checkpoint counts, and puts them back before a retry on any host."""
        msg = {"type": "progress", "done": done, "total": total}
        if message is not None:
            msg["message"] = message
        if checkpoint is not None:
            msg["checkpoint"] = checkpoint
            self.checkpoint = checkpoint
            self.checkpoint_files = list(files or [])
            if files:
                msg["files"] = list(files)
        self.done, self.total = done, total
        self.channel.send(msg)

    def log(self, message: str) -> None:
        self.channel.send({"type": "log", "message": str(message)})

    # inputs
    def input_path(self, name: str) -> str:
        if name not in self.inputs:
            raise KeyError(f"stage {self.stage} has no input {name!r} (has: {', '.join(sorted(self.inputs)) or 'none'})")
        return self.inputs[name]["path"]

    def read_json(self, name: str) -> Any:
        with open(self.input_path(name), encoding="utf-8") as f:
            return json.load(f)

    # outputs: relative to outputDir, never outside it
    def output_path(self, rel: str) -> str:
        path = os.path.abspath(os.path.join(self.output_root, rel))
        if os.path.commonpath([path, self.output_root]) != self.output_root or path == self.output_root:
            raise ValueError(f"output path {rel!r} escapes the output folder")
        return path

    def _record(self, rel: str, output: Optional[str], summary: Optional[dict]) -> None:
        if output:
            self.outputs[output] = {"path": rel, **({"summary": summary} if summary else {})}

    def write_bytes(self, rel: str, data: bytes, output: Optional[str] = None, summary: Optional[dict] = None) -> str:
        path = atomic_write_bytes(self.output_path(rel), data)
        self._record(rel, output, summary)
        return path

    def write_text(self, rel: str, text: str, output: Optional[str] = None, summary: Optional[dict] = None) -> str:
        return self.write_bytes(rel, text.encode("utf-8"), output, summary)

    def write_json(self, rel: str, value: Any, output: Optional[str] = None, summary: Optional[dict] = None) -> str:
        return self.write_text(rel, json.dumps(value, indent=2) + "\n", output, summary)

    @contextmanager
    def output_dir(self, rel: str, output: Optional[str] = None, summary: Optional[dict] = None, archive: bool = False) -> Iterator[str]:
        """A folder output (e.g. save_pretrained): write into the yielded folder; it appears complete or not
        at all. The backend publishes a folder as a tree (every file with its sha256) and hands the next
        job a folder again. archive=True also packs it into `rel`.tar (atomically) and records that file
        as the output instead (for consumers that want one file)."""
        with atomic_dir(self.output_path(rel)) as tmp:
            yield tmp
        if archive:
            path = self.output_path(rel)
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as tar:
                for name in sorted(os.listdir(path)):
                    tar.add(os.path.join(path, name), arcname=name)
            atomic_write_bytes(path + ".tar", buf.getvalue())
            rel = rel + ".tar"
        self._record(rel, output, summary)

    def finish(self, metrics: Optional[dict] = None, outputs: Optional[dict] = None) -> None:
        """Write the result file atomically (its appearance means done). Outputs default to those recorded."""
        outs = self.outputs if outputs is None else outputs
        for name, out in outs.items():
            if not os.path.exists(self.output_path(out["path"])):
                raise FileNotFoundError(f"output {name!r}: {out['path']} does not exist under {self.output_root}")
        bad = {k: v for k, v in (metrics or {}).items() if not isinstance(v, (int, float)) or isinstance(v, bool)}
        if bad:
            raise TypeError(f"metrics must be numbers: {bad}")
        atomic_write_json(self.request["resultFile"], {"outputs": outs, "metrics": dict(metrics or {})})
        self.finished = True

    # lifetime
    def __enter__(self) -> "Job":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is Terminated:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)   # a second SIGTERM must not cut the last report short
            checkpoint = self.checkpoint
            if self.on_terminate is not None:
                try:
                    checkpoint = self.on_terminate()
                except Exception as err:   # keep the last reported checkpoint
                    print(f"dual_ipo_jobs: on_terminate failed ({err!r}); reporting the last checkpoint", file=sys.stderr)
            if checkpoint is not None:
                self.progress(self.done, self.total, message=f"{self.stage}: terminated, checkpoint saved", checkpoint=checkpoint, files=self.checkpoint_files)
            print(f"dual_ipo_jobs: SIGTERM: exiting {EXIT_TERMINATED} with checkpoint {json.dumps(checkpoint)}", file=sys.stderr)
            raise SystemExit(EXIT_TERMINATED)
        if exc_type is None and not self.finished:
            print("dual_ipo_jobs: the job body ended without job.finish(): no result file written", file=sys.stderr)
            raise SystemExit(1)
        return False

