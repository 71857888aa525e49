# syntax=docker/dockerfile:1
# One image for every service: `docker run logferry <service>` (sqs-poller, s3-fetcher, la-uploader,
# blob-scanner, adx-ingester, completion-checker). TypeScript runs natively in Node 24: no build step.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY standins/package.json standins/
COPY test/package.json test/
COPY bench/package.json bench/
COPY cli/package.json cli/
COPY services/sqs-poller/package.json services/sqs-poller/
COPY services/s3-fetcher/package.json services/s3-fetcher/
COPY services/la-uploader/package.json services/la-uploader/
COPY services/blob-scanner/package.json services/blob-scanner/
COPY services/adx-ingester/package.json services/adx-ingester/
COPY services/completion-checker/package.json services/completion-checker/
# Production dependencies of the runtime workspaces only (no stand-ins, tests or dev tools). npm may nest
# some packages under a workspace (shared/node_modules), so the sources are copied in beside them.
RUN npm ci --omit=dev --no-audit --no-fund \
      -w @logferry/shared -w @logferry/cli \
      -w @logferry/sqs-poller -w @logferry/s3-fetcher -w @logferry/la-uploader \
      -w @logferry/blob-scanner -w @logferry/adx-ingester -w @logferry/completion-checker \
    && npm cache clean --force
COPY mappings.json ./
COPY shared/ shared/
COPY cli/ cli/
COPY services/ services/
COPY deploy/servicebus/Config.json deploy/servicebus/Config.json

FROM node:24-slim AS runtime
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

# Everything, with dev dependencies: the project's stand-ins and the local stack (docker-compose's `standins`).
FROM node:24-slim AS local
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund && npm cache clean --force
USER node
ENTRYPOINT ["node", "cli/src/main.ts"]
CMD ["standins", "--help"]
