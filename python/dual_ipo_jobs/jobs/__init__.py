"""Reference stage jobs: `python -m dual_ipo_jobs.jobs.<name>` as a stage's `command`."""
