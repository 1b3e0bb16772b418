# syntax=docker/dockerfile:1
# dual-ipo CPU worker: the orchestration queue (workflows) and CPU stage queues. Build from the
# repository root; CODE_VERSION is required so every round manifest records the code that ran:
#   docker build -f deploy/worker-cpu.Dockerfile \
#     --build-arg CODE_VERSION="$(node -p 'require("./package.json").version')+$(git rev-parse --short HEAD)" \
#     -t registry.example.com/dual-ipo-worker:0.1.0 .
# Not built by this repository's CI (no Docker daemon there): hadolint and test/deploy check it.

FROM node:22-bookworm-slim AS deps
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: nothing may download at install time (onnxruntime-node ships its CPU binary).
# Never --omit=optional: the workflow bundler needs @swc/core's native binary, an optional package.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:22-bookworm-slim
ARG CODE_VERSION
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Package versions are not pinned (hadolint DL3008): the base image tag fixes the distribution
# release, and pinned versions disappear from its mirrors with each security update.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 dual-ipo \
 && useradd --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin dual-ipo \
 && mkdir -p /data && chown 10001:10001 /data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
RUN if [ -z "${CODE_VERSION}" ]; then echo 'build with --build-arg CODE_VERSION=<version+commit>: round manifests record it' >&2; exit 1; fi
# TEMPORAL_CLI points nowhere on purpose: a worker without TEMPORAL_ADDRESS must fail, not start a
# private dev server inside the container.
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip \
    DUAL_IPO_CODE_VERSION=${CODE_VERSION} \
    DUAL_IPO_DATA_DIR=/data \
    TEMPORAL_CLI=/nonexistent-use-TEMPORAL_ADDRESS
USER 10001:10001
# tini as PID 1 forwards SIGTERM to node (which then drains, workers/drain.ts) and reaps the
# processes that command-backend jobs leave behind.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/dual-ipo.mjs", "worker"]
CMD ["--queues", "dual-ipo,cpu:2"]
