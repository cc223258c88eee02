# syntax=docker/dockerfile:1
#
# One image for every process of Mail Listener; the command picks the app:
#   API (default)   node --max-semi-space-size=1 dist/apps/api/src/main.js   port 3000 (API_PORT)
#   listener        node dist/apps/listener/src/main.js            port 3001 (LISTENER_PORT: /metrics, /health)
#   migrations      node dist/libs/persistence/src/migrate.cli.js  one-shot, exits 0 when the schema is current
#
#   docker build -t mail-listener .
#   docker run --rm -p 3000:3000 -e DATABASE_URL=... -e REDIS_URL=... -e API_KEYS=... -e ENCRYPTION_KEY=... mail-listener
#   docker run --rm -e ... mail-listener node dist/apps/listener/src/main.js
#
# No secrets are baked in: configuration comes from the environment at run time.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------- build
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# No install-time analytics (@scarf/scarf, pulled in by swagger-ui-dist) and no npm update checks.
ENV SCARF_ANALYTICS=false \
    NPM_CONFIG_UPDATE_NOTIFIER=false

# Dependencies first, so source edits do not invalidate this layer.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs

# Outputs dist/ (tsc + tsc-alias), then drops devDependencies from node_modules for the runtime stage.
RUN npm run build \
 && test -f dist/apps/api/src/main.js \
 && test -f dist/apps/listener/src/main.js \
 && test -f dist/apps/supervisor/src/main.js \
 && test -f dist/libs/persistence/src/migrate.cli.js \
 && npm prune --omit=dev --no-audit --no-fund

# ---------------------------------------------------------------- runtime
FROM ${NODE_IMAGE} AS runtime

# tini as PID 1: forwards SIGTERM to node (the listener releases its leases on SIGTERM) and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
    API_PORT=3000 \
    LISTENER_PORT=3001

WORKDIR /app

# Application files stay owned by root (read-only for the app user); only the data dir is writable
# (used only by the embedded development database, never in production with DATABASE_URL).
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/data && chown 1000:1000 /app/data

# The base image's unprivileged `node` user, numeric so Kubernetes can verify runAsNonRoot.
USER 1000:1000

EXPOSE 3000 3001

# /health/live of whichever app runs in this container (API on API_PORT or listener on LISTENER_PORT);
# set HEALTHCHECK_PORT to probe a single port. Plain node: the slim image has no curl or wget.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const e=process.env;const ports=e.HEALTHCHECK_PORT?[e.HEALTHCHECK_PORT]:[e.API_PORT||3000,e.LISTENER_PORT||3001];Promise.any(ports.map(p=>fetch('http://127.0.0.1:'+p+'/health/live',{signal:AbortSignal.timeout(4000)}).then(r=>{if(!r.ok)throw new Error(String(r.status))}))).then(()=>process.exit(0),()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--max-semi-space-size=1", "dist/apps/api/src/main.js"]
