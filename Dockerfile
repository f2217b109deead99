# syntax=docker/dockerfile:1
# The image of cluster-token-service. This machine has no Docker daemon, so
# test/packaging/production-install.test.ts runs this file's own steps in CI: the `npm pack`
# step of the build stage, every RUN of the install stage, then the ENTRYPOINT's command.
#
#   docker build -t cluster-token-service .
#   docker run -v ./config.yaml:/etc/cluster-token/config.yaml:ro -p 50051:50051 -p 8080:8080 cluster-token-service

# 1. Build: compile TypeScript, then pack the package exactly as it would be published. npm pack
#    never includes package-lock.json, so the lock file travels beside the tarball.
FROM node:24-trixie-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY src src
COPY gen gen
COPY scripts scripts
COPY config config
COPY descriptors descriptors
RUN npx tsc -p tsconfig.json
RUN npm pack --ignore-scripts --pack-destination /pkg && mv /pkg/cluster-token-service-*.tgz /pkg/package.tgz && cp package-lock.json /pkg/

# 2. Install: the packed package, with production dependencies at exactly the lock file's versions.
#    npm ci installs every transitive dependency as locked, and refuses a lock that does not match
#    package.json, so no version floats from one build to the next.
FROM node:24-trixie-slim AS install
WORKDIR /app
COPY --from=build /pkg/ /pkg/
RUN tar -xzf /pkg/package.tgz --strip-components=1 -C /app && cp /pkg/package-lock.json /app/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# 3. Run: distroless Node 24 on Debian 13 (no shell, no package manager), a non-root user.
FROM gcr.io/distroless/nodejs24-debian13:nonroot
WORKDIR /app
COPY --from=install /app /app
USER 65532:65532
ENV NODE_ENV=production
# gRPC, Connect (HTTP), metrics, the plaintext health port of the manifests.
EXPOSE 50051 8080 9090 8081
# --disable-sigusr1: SIGUSR1 never opens the inspector, which would hand every cloud secret in
# memory to whoever may signal the process (a reloader sidecar sharing the process namespace).
# Node then ignores SIGUSR1 altogether, the service's own listener included: SIGHUP reopens the audit file.
# The config (and the files it names) come from a mounted path; see deploy/kubernetes.
ENTRYPOINT ["/nodejs/bin/node", "--disable-sigusr1", "/app/dist/src/cli/bin.cjs", "serve", "--config", "/etc/cluster-token/config.yaml"]
