# hostscope image: one image for every role (exporter, sink, maintain, migrate, seed) plus the
# Alertmanager config renderer. Build:
#   docker build -t hostscope .
# Behind a TLS-intercepting proxy, pass its CA certificate (PEM text) so npm trusts it:
#   docker build --build-arg EXTRA_CA_CERT="$(cat proxy-ca.pem)" -t hostscope .
# BASE_IMAGE must provide Node.js 20+ with npm on PATH (Debian bookworm based: node:20-bookworm-slim).
ARG BASE_IMAGE=node:20-bookworm-slim

# ---- base: the Node image plus the optional extra CA, for the stages that download packages --------
FROM ${BASE_IMAGE} AS base
ARG EXTRA_CA_CERT=""
WORKDIR /app
# The image installs no OS packages, so npm (Node's TLS) is the only client that needs the CA.
# NODE_EXTRA_CA_CERTS adds it to Node's built-in roots instead of replacing them.
RUN set -eu; \
    if [ -n "${EXTRA_CA_CERT}" ]; then \
      printf '%s\n' "${EXTRA_CA_CERT}" > /usr/local/share/hostscope-extra-ca.pem; \
    else \
      : > /usr/local/share/hostscope-extra-ca.pem; \
    fi
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/hostscope-extra-ca.pem \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

# ---- deps: production dependencies only ------------------------------------------------------------
FROM base AS deps
COPY package.json package-lock.json ./
# No install scripts: the native addons either ship prebuilt binaries (koffi) or are optional
# accelerators of optional dependencies (cpu-features, ssh2's crypto binding) that hostscope does not use.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# ---- build: dev dependencies + TypeScript compile --------------------------------------------------
FROM base AS build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime -------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
# One malloc arena: V8's background threads otherwise each keep their own arena of freed memory
# (sink with the embedded database: ~172 -> ~145 MB RSS; npm run bench:start).
ENV MALLOC_ARENA_MAX=1
# A fixed, unprivileged uid/gid. The exporter reads the host's /proc and /sys (world-readable) and the
# Docker socket (give the container the socket's group: docker run --group-add <gid>).
RUN groupadd --system --gid 10001 hostscope \
 && useradd --system --uid 10001 --gid hostscope --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin hostscope
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY scripts/render-alertmanager.mjs ./scripts/render-alertmanager.mjs
COPY alertmanager ./alertmanager
# Where the compose stack renders the Alertmanager config, and the sink's outage buffer (a named volume
# copies this ownership).
RUN mkdir -p /var/lib/hostscope/alertmanager /var/lib/hostscope/buffer \
 && chown 10001:10001 /var/lib/hostscope/alertmanager /var/lib/hostscope/buffer
USER 10001:10001
EXPOSE 9100
# Liveness of the exporter; the sink's service overrides HOSTSCOPE_HEALTHCHECK_URL (port 9101).
ENV HOSTSCOPE_HEALTHCHECK_URL=http://127.0.0.1:9100/health
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.HOSTSCOPE_HEALTHCHECK_URL,{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# V8 flags for a process that allocates in short bursts (one scrape) and must stay small; none sets a heap
# limit, so none can cause an out-of-memory exit:
# --max-semi-space-size=2: the young generation stays at 2x2 MB instead of growing to 2x16 MB.
# --no-allocation-site-pretenuring: objects of a scrape are not allocated straight into the old
#   generation (V8 does that for sites whose objects survive a minor GC, which a scrape's do while it runs),
#   where they would die only to be collected by a full GC.
# --heap-growing-percent=50: a full GC when the old generation has grown by half (instead of up to 4x).
# --liftoff-only: WebAssembly (the embedded PostgreSQL, PGlite) runs on V8's baseline compiler only. Tiering
#   hot functions up to TurboFan kept ~80 MB resident after compiling (and took more CPU than it saved at a
#   sink's load: npm run bench:start).
# Keep in sync with package.json "start" scripts and scripts/bench-lib.mjs NODE_FLAGS (a test checks).
ENTRYPOINT ["node", "--max-semi-space-size=2", "--no-allocation-site-pretenuring", "--heap-growing-percent=50", "--liftoff-only", "/app/dist/cli.js"]
CMD ["exporter"]
