# syntax=docker/dockerfile:1.7
# Multi-stage image for the worker, the codec server and (profile `local`) the devnet.
# Secrets are never baked in: codec keys and agent keys arrive as Docker secrets or env files.

FROM node:20.20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
RUN npm run build && npm prune --omit=dev

FROM node:20.20-bookworm-slim AS runtime
# MALLOC_ARENA_MAX=2: glibc otherwise keeps an allocator arena per thread of Temporal core's runtime;
# with 1,000 cached agents that is ~60 KiB of worker RSS per agent (BENCHMARKS.md, B3).
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    SESSION_KEEPER_METRICS_ADDRESS=0.0.0.0:9464
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/bin ./bin
# The devnet (compose profile `local`) runs as `node` and writes the network config and its state
# here; a new named volume mounted on it takes this ownership. The workers mount it read-only.
RUN mkdir -p /etc/session-keeper && chown node:node /etc/session-keeper
USER node
EXPOSE 9464
# Ready once the worker polls Temporal (see src/observability/http-endpoint.ts).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/readyz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/session-keeper.js"]
CMD ["worker"]
