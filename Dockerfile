# syntax=docker/dockerfile:1
# One image for every service: `docker build -t logferry .` builds the runtime image (the last stage, Docker's
# default target), and `docker run logferry <service>` runs one service (sqs-poller, s3-fetcher, la-uploader,
# blob-scanner, adx-ingester, completion-checker), as the Helm chart does with `args: [<service>]`.
# `docker build --target local .` builds the local image (stand-ins, dev tools) that docker-compose.yml's
# `standins` container uses. TypeScript runs natively in Node 24: no build step.
#
# The base image is a build argument so it can be pinned by digest, which a tag is not:
#   docker build --build-arg NODE_IMAGE=node:24-slim@sha256:<digest> .
# (the digest: `docker buildx imagetools inspect node:24-slim`, or the tag's page on Docker Hub).
ARG NODE_IMAGE=node:24-slim

# Everything, with dev dependencies: the project's stand-ins and the local stack (docker-compose's `standins`).
FROM ${NODE_IMAGE} AS local
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund && npm cache clean --force
USER node
ENTRYPOINT ["node", "cli/src/main.ts"]
CMD ["standins", "--help"]

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY cli/package.json cli/
COPY services/sqs-poller/package.json services/sqs-poller/
COPY services/s3-fetcher/package.json services/s3-fetcher/
COPY services/la-uploader/package.json services/la-uploader/
COPY services/blob-scanner/package.json services/blob-scanner/
COPY services/adx-ingester/package.json services/adx-ingester/
COPY services/completion-checker/package.json services/completion-checker/
# Production dependencies of the runtime workspaces only. npm installs the production dependencies of every
# workspace the root package.json lists, whatever `-w` says, so the list is cut to the runtime workspaces first
# (no stand-ins, tests or benchmarks, hence no Azurite, fauxqs or selfsigned); the lock file still pins every
# version. npm may nest some packages under a workspace (shared/node_modules), so the sources are copied in
# beside them. npm's cache stays in this stage, which the runtime image does not copy. deploy/test/dockerfile.test.ts
# runs these very commands and lists what they install.
RUN npm pkg delete workspaces devDependencies \
    && npm pkg set 'workspaces[]=shared' 'workspaces[]=cli' 'workspaces[]=services/*' \
    && npm ci --omit=dev --no-audit --no-fund
COPY mappings.json routes.json ./
COPY shared/ shared/
COPY cli/ cli/
COPY services/ services/
COPY deploy/servicebus/Config.json deploy/servicebus/Config.json

# The runtime image, and the default target: what the Helm chart and docker-compose's services run.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS="--enable-source-maps --max-semi-space-size=8" \
    HEALTH_PORT=8080
WORKDIR /app
# The code is owned by root and read-only to the service user; the root filesystem can be mounted read-only
# (only /tmp needs to be writable).
COPY --from=build --chown=root:root /app /app
USER node
EXPOSE 8080 8081
# --max-semi-space-size=8 keeps V8's young generation small under s3-fetcher's allocation rate (bench: peak RSS
# on a 1 GB object: 296 MB with Node's defaults, 180 MB with the flag; see README, Benchmarks).
# Node is PID 1 and handles SIGTERM itself (runService: stop intake, drain, settle, flush, exit 0).
ENTRYPOINT ["node", "cli/src/main.ts", "run"]
CMD ["--help"]
