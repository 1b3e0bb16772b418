"""Runs a reference job from this source tree: `python python/run_job.py <job>` is `python -m
dual_ipo_jobs.jobs.<job>` with python/ first on sys.path, so a campaign runs the jobs of its checkout rather
than an older copy installed into the venv (config/examples/cogvideox-tiny.yaml uses it)."""
import os
import runpy
import sys

if len(sys.argv) != 2:
    sys.exit("usage: python run_job.py <job>   (bootstrap, sample, label, pce_filter, critic_train, validate, generator_train, evaluate)")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
module = f"dual_ipo_jobs.jobs.{sys.argv[1]}"
sys.argv = [module]   # the kit reads the request from $DUAL_IPO_REQUEST, not from argv
runpy.run_module(module, run_name="__main__", alter_sys=True)
