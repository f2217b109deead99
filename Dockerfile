# syntax=docker/dockerfile:1
# The image of cluster-token-service. Its install steps are the ones that
# test/packaging/production-install.test.ts runs in CI (this machine has no Docker
# daemon): npm pack, then a production-only install of the tarball into an empty
# folder, then `cluster-token serve` from there.
#
#   docker build -t cluster-token-service .
#   docker run -v ./config.yaml:/etc/cluster-token/config.yaml:ro -p 50051:50051 -p 8080:8080 cluster-token-service

# 1. Build: compile TypeScript and pack the package exactly as it would be published.
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY src src
COPY gen gen
COPY scripts scripts
COPY config config
COPY descriptors descriptors
RUN npx tsc -p tsconfig.json && npm pack --ignore-scripts --pack-destination /pkg

# 2. Install: production dependencies only, from the tarball, into an empty folder.
FROM node:22-bookworm-slim AS install
WORKDIR /app
COPY --from=build /pkg/ /pkg/
RUN npm install --omit=dev --no-audit --no-fund --ignore-scripts --no-save /pkg/cluster-token-service-*.tgz

# 3. Run: distroless Node 22, no shell, no package manager, a non-root user.
FROM gcr.io/distroless/nodejs22-debian12:nonroot
WORKDIR /app
COPY --from=install /app/node_modules /app/node_modules
USER 65532:65532
ENV NODE_ENV=production
# gRPC, Connect (HTTP), metrics.
EXPOSE 50051 8080 9090
# The config (and the files it names) come from a mounted path; see deploy/kubernetes.
ENTRYPOINT ["/nodejs/bin/node", "/app/node_modules/cluster-token-service/dist/src/cli/bin.cjs", "serve", "--config", "/etc/cluster-token/config.yaml"]
