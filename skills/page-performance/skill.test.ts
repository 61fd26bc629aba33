import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseOutcome } from '@webguard/shared';
import { BrowserPool } from '../../server/src/engine/browser/index.js';
import { runCase } from '../../server/src/engine/index.js';
import { html } from '../../server/test/support/browser.js';
import { startFixtureServer } from '../../server/test/support/fixture-server.js';
import pagePerformance from './skill.js';

/** A page whose banner appears late and pushes the content down: a real layout shift. */
const SHIFTING = `
  <h1>Catalogue</h1>
  <p id="content" style="font-size: 40px">Lots of products to look at</p>
  <img src="/pixel.png" width="400" height="200">
  <script>
    setTimeout(() => {
      const banner = document.createElement('div');
      banner.style.height = '300px';
      banner.textContent = 'Sale!';
      document.body.prepend(banner);
    }, 100);
  </script>`;

const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

describe('page-performance', () => {
  let server: Awaited<ReturnType<typeof startFixtureServer>>;
  let pool: BrowserPool;

  beforeAll(async () => {
    server = await startFixtureServer({
      '/shop': html(SHIFTING, 'Shop'),
      '/pixel.png': (_request, response) => {
        response.writeHead(200, { 'content-type': 'image/png' }).end(PIXEL);
      },
      '/gone': (_request, response) => response.writeHead(404).end('no such page'),
    });
    pool = new BrowserPool({ searchPath: process.env.PATH ?? '' });
  });
  afterAll(async () => {
    await pool?.close();
    await server?.close();
  });

  const measure = async (params: Record<string, unknown>) =>
    CaseOutcome.parse(
      await runCase({
        skill: pagePerformance,
        params,
        caseName: 'shop speed',
        executionId: null,
        timeoutMs: 30_000,
        browsers: pool,
      }),
    );

  it('records navigation timing, web vitals, bytes and requests as metrics', async () => {
    const outcome = await measure({ url: `${server.url}/shop` });
    expect(outcome.status).toBe('passed');
    const metrics = Object.fromEntries(outcome.metrics.map((m) => [m.name, m]));
    expect(Object.keys(metrics).sort()).toEqual([
      'cumulative_layout_shift',
      'dom_content_loaded',
      'first_contentful_paint',
      'largest_contentful_paint',
      'load_time',
      'request_count',
      'transfer_size',
      'ttfb',
    ]);
    expect(metrics['ttfb']).toMatchObject({ unit: 'ms' });
    expect(metrics['cumulative_layout_shift']!.value).toBeGreaterThan(0);
    expect(metrics['largest_contentful_paint']!.value).toBeGreaterThanOrEqual(
      metrics['first_contentful_paint']!.value,
    );
    // The page and its image; Chromium's favicon request is not the page's.
    expect(metrics['request_count']!.value).toBeGreaterThanOrEqual(2);
    expect(metrics['transfer_size']!.value).toBeGreaterThan(PIXEL.length);
    expect(outcome.outputs).toMatchObject({ cls: metrics['cumulative_layout_shift']!.value });
  });

  it('fails naming every measurement above its limit', async () => {
    const outcome = await measure({
      url: `${server.url}/shop`,
      thresholds: { cls: 0.001, requests: 1, lcp_ms: 60_000 },
    });
    expect(outcome).toMatchObject({ status: 'failed', error_type: 'assertion' });
    expect(outcome.error_message).toMatch(/cls is [\d.]+, above the limit of 0\.001/);
    expect(outcome.error_message).toMatch(/requests is \d+, above the limit of 1/);
    expect(outcome.error_message).not.toContain('lcp_ms');
    expect(outcome.steps.at(-1)).toMatchObject({ name: 'thresholds', status: 'failed' });
    // Measurements are kept even when a limit fails the case.
    expect(outcome.metrics.length).toBe(8);
  });

  it('fails a page that answers with an error status', async () => {
    const outcome = await measure({ url: `${server.url}/gone` });
    expect(outcome).toMatchObject({
      status: 'failed',
      error_type: 'assertion',
      error_message: `${server.url}/gone answered 404`,
    });
  });
});
