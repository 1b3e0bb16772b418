# dual-ipo worker image. Documentation-grade: written for this repository, NOT built or run in its
# CI (see deploy/README.md). Build from the repository root:
#   docker build -f deploy/worker.Dockerfile -t dual-ipo-worker .                    # CPU workers
#   docker build -f deploy/worker.Dockerfile --build-arg TFJS_NODE=gpu -t dual-ipo-worker-gpu .
# Run against a cluster (nothing local is started when TEMPORAL_ADDRESS is set):
#   docker run -e TEMPORAL_ADDRESS=temporal.example:7233 -e TEMPORAL_NAMESPACE=dual-ipo dual-ipo-worker
FROM node:20-slim

# none: reference models on the pure-JS / WASM tfjs backends (no native build, no download)
# cpu:  @tensorflow/tfjs-node (native libtensorflow, downloaded by its install script at build time)
# gpu:  @tensorflow/tfjs-node-gpu (needs an NVIDIA CUDA base or the CUDA libraries on the node)
ARG TFJS_NODE=none

WORKDIR /app
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip \
    npm_config_fund=false \
    npm_config_audit=false

COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: nothing downloads anything at install time (the base image's npm 10 would run
# every install script). Do NOT add --omit=optional: @swc/core's native binary, which the Temporal
# workflow bundler needs, is an optional platform package. tsx is a runtime dependency (no build step).
RUN npm ci --omit=dev --ignore-scripts \
 && if [ "$TFJS_NODE" = cpu ]; then npm rebuild @tensorflow/tfjs-node; fi \
 && if [ "$TFJS_NODE" = gpu ]; then npm rebuild @tensorflow/tfjs-node-gpu; fi \
 && npm cache clean --force

COPY . .
# Workers never start a local Temporal: the image has no Temporal binary on purpose.
ENV TEMPORAL_CLI=/nonexistent-use-TEMPORAL_ADDRESS \
    DUAL_IPO_DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]

# SIGTERM (docker stop, Kubernetes) shuts the workers down gracefully; give the container time
# (Kubernetes: terminationGracePeriodSeconds) to finish or checkpoint running activities.
ENTRYPOINT ["node", "bin/dual-ipo.mjs", "worker"]
CMD ["--queues", "cpu"]
