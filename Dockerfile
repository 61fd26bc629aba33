# syntax=docker/dockerfile:1
# One image for every WebGuard role; the command picks it:
#   docker run IMAGE api | worker --queues api | worker --queues browser | scheduler | migrate | start

# --- build: install everything, compile TypeScript, then drop dev dependencies ---------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Chromium comes from Debian in the runtime image; nothing may download a browser of its own.
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    ELECTRON_SKIP_BINARY_DOWNLOAD=1
# Manifests first, so the dependency layer is reused until a package.json or the lockfile changes.
COPY package.json package-lock.json .npmrc ./
COPY shared/package.json shared/
COPY server/package.json server/
COPY skills/package.json skills/
COPY desktop/package.json desktop/
RUN npm ci
COPY tsconfig.base.json tsconfig.json ./
COPY shared shared
COPY server server
COPY skills skills
# The desktop workspace only for its renderer, which the API serves as the web UI at `/`.
COPY desktop desktop
RUN npx tsc -b shared server skills && npm run build:web -w desktop
# Production dependencies of the server's workspaces only (no Electron, no build tools).
RUN rm -rf node_modules shared/node_modules server/node_modules skills/node_modules \
 && npm ci --omit=dev --include-workspace-root --workspace shared --workspace server --workspace skills

# --- runtime: Node, Debian's Chromium and fonts, the compiled app, a non-root user -----------
FROM node:20-bookworm-slim AS runtime
# Chromium for browser workers; fonts so pages render text (Latin, CJK, emoji) as users see it;
# tini reaps Chromium's child processes and forwards SIGTERM so workers drain on stop.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      chromium fonts-liberation fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji \
      ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 webguard \
 && useradd --system --uid 10001 --gid webguard --home-dir /var/lib/webguard --create-home \
      --shell /usr/sbin/nologin webguard
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    WEBGUARD_HOME=/var/lib/webguard \
    WEBGUARD_CHROMIUM_PATH=/usr/bin/chromium
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/shared/package.json shared/
COPY --from=build /app/shared/dist shared/dist
COPY --from=build /app/server/package.json server/
COPY --from=build /app/server/dist server/dist
COPY --from=build /app/server/drizzle server/drizzle
# Skills are compiled on the fly from their TypeScript sources, with their own dependencies.
COPY --from=build /app/skills skills
COPY --from=build /app/desktop/dist/web desktop/dist/web
RUN ln -s /app/server/dist/cli.js /usr/local/bin/webguard && chmod +x /app/server/dist/cli.js
USER webguard
VOLUME ["/var/lib/webguard"]
EXPOSE 8000
# Liveness of the API (and of `start`); worker and scheduler services override it in compose.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["tini", "--", "node", "/app/server/dist/cli.js"]
CMD ["start"]
