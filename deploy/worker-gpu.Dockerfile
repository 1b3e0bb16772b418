# syntax=docker/dockerfile:1
# dual-ipo GPU worker: CUDA 12 runtime + cuDNN, Node 22, and a Python venv (/opt/job-venv, first on
# PATH) in which command-backend jobs run (docs/command-backend.md). Build from the repository root:
#   docker build -f deploy/worker-gpu.Dockerfile \
#     --build-arg CODE_VERSION="$(node -p 'require("./package.json").version')+$(git rev-parse --short HEAD)" \
#     --build-arg JOB_REQUIREMENTS=path/to/requirements.txt \
#     -t registry.example.com/dual-ipo-worker-gpu:0.1.0 .
# The job kit in python/ (a pip-installable package) goes into the venv when the folder exists;
# JOB_REQUIREMENTS (a path inside the build context, optional) adds a team's own packages, e.g. torch
# wheels for CUDA 12.6. Not built by this repository's CI (no Docker daemon, no base images there):
# hadolint and test/deploy check it.

FROM node:22-bookworm-slim AS node

FROM node AS deps
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
# Same install as the CPU image (see there); the node_modules are copied into the CUDA image below.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04
ARG CODE_VERSION
ARG JOB_REQUIREMENTS=""
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Package versions are not pinned (hadolint DL3008): the base image tag fixes the distribution
# release, and pinned versions disappear from its mirrors with each security update.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates python3 python3-venv \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 dual-ipo \
 && useradd --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin dual-ipo \
 && mkdir -p /data && chown 10001:10001 /data
# Node's official build links against glibc 2.28 and runs on Ubuntu 24.04's 2.39; npm stays behind
# because workers never install anything at run time.
COPY --from=node /usr/local/bin/node /usr/local/bin/node
# The context is bind-mounted (read-only) so that python/ and the requirements are optional: a COPY
# of a missing path fails the build. pip builds in a writable copy.
RUN --mount=type=bind,target=/src \
    python3 -m venv /opt/job-venv \
 && if [ -n "${JOB_REQUIREMENTS}" ]; then /opt/job-venv/bin/pip install --no-cache-dir -r "/src/${JOB_REQUIREMENTS}"; fi \
 && if [ -f /src/python/pyproject.toml ] || [ -f /src/python/setup.py ]; then \
      cp -r /src/python /tmp/job-kit && /opt/job-venv/bin/pip install --no-cache-dir /tmp/job-kit && rm -rf /tmp/job-kit; \
    fi
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
RUN if [ -z "${CODE_VERSION}" ]; then echo 'build with --build-arg CODE_VERSION=<version+commit>: round manifests record it' >&2; exit 1; fi
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip \
    VIRTUAL_ENV=/opt/job-venv \
    PATH=/opt/job-venv/bin:${PATH} \
    DUAL_IPO_CODE_VERSION=${CODE_VERSION} \
    DUAL_IPO_DATA_DIR=/data \
    TEMPORAL_CLI=/nonexistent-use-TEMPORAL_ADDRESS
USER 10001:10001
# tini: see worker-cpu.Dockerfile. GPU training jobs are children of node; tini reaps what they leave.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/dual-ipo.mjs", "worker"]
CMD ["--queues", "gpu:1"]
