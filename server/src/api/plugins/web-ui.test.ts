import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { webUi } from './web-ui.js';

const built = mkdtempSync(join(tmpdir(), 'wg-web-ui-'));
mkdirSync(join(built, 'assets'));
writeFileSync(join(built, 'index.html'), '<!doctype html><div id="root"></div>');
writeFileSync(join(built, 'assets', 'index-abc123.js'), 'console.log(1)');
writeFileSync(join(built, 'favicon.svg'), '<svg/>');
afterAll(() => rmSync(built, { recursive: true, force: true }));

/** The plugin in front of a stand-in for the API and its tooling routes. */
async function appWith(root: string) {
  const app = Fastify();
  await app.register(webUi, { root });
  for (const path of [
    '/api/v1/suites',
    '/healthz',
    '/readyz',
    '/metrics',
    '/docs',
    '/socket.io/',
  ]) {
    app.get(path, async () => ({ route: path }));
  }
  return app;
}

const page = { accept: 'text/html,application/xhtml+xml' };

describe('web UI plugin', () => {
  it('serves the app, its files and client routes, with its own security headers', async () => {
    const app = await appWith(built);
    const root = await app.inject('/');
    expect(root.statusCode).toBe(200);
    expect(root.body).toContain('<div id="root">');
    expect(root.headers['cache-control']).toBe('no-cache');
    expect(root.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    const asset = await app.inject('/assets/index-abc123.js');
    expect(asset.headers['content-type']).toContain('javascript');
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await app.inject('/favicon.svg')).body).toBe('<svg/>');
    const deep = await app.inject({ url: '/runs/42?tab=logs', headers: page });
    expect(deep.body).toContain('<div id="root">');
    await app.close();
  });

  it('leaves the API, docs, probes, metrics and Socket.IO alone', async () => {
    const app = await appWith(built);
    for (const path of [
      '/api/v1/suites',
      '/healthz',
      '/readyz',
      '/metrics',
      '/docs',
      '/socket.io/',
    ]) {
      expect((await app.inject({ url: path, headers: page })).json()).toEqual({ route: path });
    }
    expect((await app.inject({ url: '/api/v1/missing', headers: page })).statusCode).toBe(404);
    // A script asking for a file that is not there gets a 404, not the page.
    expect((await app.inject('/assets/missing.js')).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/runs/1', headers: page })).statusCode).toBe(
      404,
    );
    await app.close();
  });

  it('never serves files outside its folder', async () => {
    const app = await appWith(join(built, 'assets'));
    for (const url of ['/../index.html', '/%2e%2e/index.html', '/..%2findex.html']) {
      const response = await app.inject({ url });
      expect(response.body).not.toContain('<div id="root">');
    }
    await app.close();
  });

  it('explains how to build the UI when it is not built', async () => {
    const app = await appWith(join(built, 'not-built'));
    const root = await app.inject('/');
    expect(root.statusCode).toBe(200);
    expect(root.body).toContain('npm run build');
    expect((await app.inject({ url: '/suites', headers: page })).body).toContain(
      'has not been built',
    );
    expect((await app.inject('/healthz')).json()).toEqual({ route: '/healthz' });
    await app.close();
  });
});
