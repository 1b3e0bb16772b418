"""Python jobs for dual-ipo's `command` backend (docs/command-backend.md).

`dual_ipo_jobs.kit` (standard library only) speaks the job contract; `dual_ipo_jobs.losses` (needs
torch) and `dual_ipo_jobs.stats` (standard library) hold the paper's formulas, checked against lib/core.
"""
from .kit import (CONTRACT, EXIT_TERMINATED, EXIT_USAGE, Channel, Job, RequestError, Terminated, atomic_dir,
                  atomic_write_bytes, atomic_write_json, atomic_write_text, load_request, request_path)

__all__ = ["CONTRACT", "EXIT_TERMINATED", "EXIT_USAGE", "Channel", "Job", "RequestError", "Terminated", "atomic_dir",
           "atomic_write_bytes", "atomic_write_json", "atomic_write_text", "load_request", "request_path"]
