import { existsSync, statSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

export interface WebUiOptions {
  /** Folder of the built renderer; default the desktop workspace's `dist/web` beside this server. */
  root?: string;
}

/** The renderer build as this repository lays it out (`npm run build` produces it). */
export function defaultWebUiRoot(): string {
  // server/{src,dist}/api/plugins → the repository root → desktop/dist/web
  return fileURLToPath(new URL('../../../../desktop/dist/web', import.meta.url));
}

/** Paths that belong to the API and its tooling; the web UI never answers them. */
const RESERVED = ['/api', '/docs', '/healthz', '/readyz', '/metrics', '/socket.io'];

const isReserved = (path: string) =>
  RESERVED.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));

/** The renderer's own policy: scripts only from here, live frames and screenshots as data/blob. */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
].join('; ');

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer');
}

const NOT_BUILT = (root: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WebGuard</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222;line-height:1.5}
code{background:#f1f3f5;padding:.1rem .3rem;border-radius:4px}</style></head>
<body><h1>WebGuard is running</h1>
<p>The API answers under <a href="/api/v1/skills"><code>/api/v1</code></a> (documentation at
<a href="/docs"><code>/docs</code></a>), but the web UI has not been built, so there is nothing to show here yet.</p>
<p>Build it from the repository with <code>npm run build</code> (or only the UI:
<code>npm run build:web -w desktop</code>) and reload this page. It is served from
<code>${root.replace(/[<>&]/g, '')}</code>.</p></body></html>`;

/**
 * Serves the built renderer at `/`: its files as they are, and `index.html` for any other page
 * address a browser asks for, so deep links into the app work. It answers before authentication
 * because the app is public static content; its data still comes from the authenticated API.
 */
export const webUi = fp(
  async (app: FastifyInstance, options: WebUiOptions) => {
    const root = normalize(options.root ?? defaultWebUiRoot());
    const built = existsSync(join(root, 'index.html'));
    if (built) await app.register(fastifyStatic, { root, serve: false });

    const fileFor = (path: string): string | null => {
      let relative: string;
      try {
        relative = decodeURIComponent(path).replace(/^\/+/, '');
      } catch {
        return null;
      }
      if (relative === '') return null;
      const absolute = normalize(join(root, relative));
      if (!absolute.startsWith(root + sep)) return null;
      try {
        return statSync(absolute).isFile() ? relative : null;
      } catch {
        return null;
      }
    };

    app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      const path = request.url.split('?')[0] ?? '/';
      if (isReserved(path)) return;
      const wantsPage = (request.headers.accept ?? '').includes('text/html');
      if (!built) {
        if (path !== '/' && !wantsPage) return;
        return secure(reply).type('text/html; charset=utf-8').send(NOT_BUILT(root));
      }
      const file = fileFor(path);
      if (file) {
        // Hashed bundles never change; index.html must be fetched fresh to pick up new ones.
        const immutable = file.startsWith('assets/');
        return immutable
          ? secure(reply).sendFile(file, { immutable: true, maxAge: '365d' })
          : secure(reply)
              .header('cache-control', 'no-cache')
              .sendFile(file, { cacheControl: false });
      }
      if (path === '/' || wantsPage) {
        return secure(reply)
          .header('cache-control', 'no-cache')
          .sendFile('index.html', { cacheControl: false });
      }
    });
  },
  { name: 'web-ui' },
);
