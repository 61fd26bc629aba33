import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseOutcome } from '@webguard/shared';
import { BrowserPool, findChromium } from '../../server/src/engine/browser/index.js';
import { runCase } from '../../server/src/engine/index.js';
import { html, MemorySink } from '../../server/test/support/browser.js';
import { startFixtureServer } from '../../server/test/support/fixture-server.js';
import playwrightTest from './skill.js';

const SUITE = fileURLToPath(new URL('./fixtures/shop-suite', import.meta.url));
const CLI = createRequire(import.meta.url).resolve('@playwright/test/cli');

interface JsonReport {
  stats: { expected: number; unexpected: number; flaky: number; skipped: number };
}

/** `npx playwright test` on the same suite, as its owner runs it, with the JSON reporter. */
async function runDirectly(shopUrl: string, chromium: string): Promise<JsonReport> {
  // Its own output goes to a temporary folder, never into the repository.
  const output = mkdtempSync(join(tmpdir(), 'wg-pw-direct-'));
  const child = spawn(process.execPath, [CLI, 'test', '--reporter=json', `--output=${output}`], {
    cwd: SUITE,
    env: { ...process.env, SHOP_URL: shopUrl, CHROMIUM_PATH: chromium, FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let report = '';
  child.stdout.on('data', (chunk: Buffer) => (report += chunk.toString('utf8')));
  await new Promise((resolve) => child.once('close', resolve));
  rmSync(output, { recursive: true, force: true });
  return JSON.parse(report) as JsonReport;
}

describe('playwright-test', () => {
  let shop: Awaited<ReturnType<typeof startFixtureServer>>;
  let pool: BrowserPool;

  beforeAll(async () => {
    shop = await startFixtureServer({
      '/search': (request, response) => {
        const query = new URL(request.url ?? '/', 'http://shop').searchParams.get('q');
        const body =
          query === 'lamp'
            ? '<ul><li>Desk lamp</li><li>Floor lamp</li></ul>'
            : '<p>No products found</p>';
        html(body, 'Search')(request, response);
      },
      '/cart': html(
        `<label>Coupon <input></label>
         <button onclick="document.querySelector('[data-testid=total]').textContent = '€90.00'">Apply</button>
         <p data-testid="total">€100.00</p>`,
        'Cart',
      ),
    });
    pool = new BrowserPool({ searchPath: process.env.PATH ?? '' });
  });
  afterAll(async () => {
    await pool?.close();
    await shop?.close();
  });

  it('gives the same counts as npx playwright test, each test a step with its artifacts', async () => {
    const sink = new MemorySink();
    // Both runs at once: Playwright is slow to start on a small machine.
    const [result, direct] = await Promise.all([
      runCase({
        skill: playwrightTest,
        params: { path: SUITE, base_url: shop.url },
        caseName: 'shop suite',
        executionId: null,
        timeoutMs: 120_000,
        browsers: pool,
        artifacts: sink,
      }),
      runDirectly(shop.url, findChromium({ searchPath: process.env.PATH ?? '' }).path),
    ]);
    const outcome = CaseOutcome.parse(result);
    expect(direct.stats).toMatchObject({ expected: 2, unexpected: 1, flaky: 1, skipped: 1 });

    // One failed test fails the case, as it fails `npx playwright test`.
    expect(outcome).toMatchObject({ status: 'failed', error_type: 'assertion' });
    expect(outcome.error_message).toMatch(
      /^1 of 5 Playwright tests failed \(2 passed, 1 failed, 1 flaky, 1 skipped\): applies a coupon to the total$/,
    );
    const counts = Object.fromEntries(outcome.metrics.map((metric) => [metric.name, metric.value]));
    expect(counts).toEqual({
      tests_passed: direct.stats.expected,
      tests_failed: direct.stats.unexpected,
      tests_flaky: direct.stats.flaky,
      tests_skipped: direct.stats.skipped,
    });

    const steps = Object.fromEntries(outcome.steps.map((step) => [step.name, step]));
    expect(steps['[desktop] checkout.spec.ts › applies a coupon to the total']).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('toHaveText'),
    });
    expect(
      steps['[desktop] checkout.spec.ts › applies a coupon to the total (retry 1)']?.status,
    ).toBe('failed');
    expect(
      steps['[desktop] checkout.spec.ts › shows the cart after a slow first load']?.status,
    ).toBe('failed');
    expect(
      steps['[desktop] checkout.spec.ts › shows the cart after a slow first load (retry 1)']
        ?.status,
    ).toBe('passed');
    expect(steps['[desktop] search.spec.ts › search › finds products by name']?.status).toBe(
      'passed',
    );
    expect(outcome.logs).toContainEqual(
      expect.objectContaining({ message: 'Playwright: 2 passed, 1 failed, 1 flaky, 1 skipped' }),
    );

    // The suite's own screenshot-on-failure and retain-on-failure trace, as artifacts.
    const kinds = sink.files.map((file) => [file.kind, file.name]);
    expect(kinds).toContainEqual(['screenshot', 'applies a coupon to the total – screenshot.png']);
    expect(kinds).toContainEqual(['trace', 'applies a coupon to the total (retry 1) – trace.zip']);
    // The temporary config is gone from the suite's folder.
    expect(readdirSync(SUITE).filter((name) => name.startsWith('.webguard-'))).toEqual([]);
  }, 180_000);

  it('passes when every test passes, with the results as outputs', async () => {
    const outcome = CaseOutcome.parse(
      await runCase({
        skill: playwrightTest,
        params: { path: SUITE, base_url: shop.url, files: ['search.spec.ts'] },
        caseName: 'search only',
        executionId: null,
        timeoutMs: 120_000,
        browsers: pool,
      }),
    );
    expect(outcome).toMatchObject({
      status: 'passed',
      outputs: { passed: 2, failed: 0, flaky: 0, skipped: 1, total: 3 },
    });
    expect(outcome.outputs['tests']).toContainEqual({
      title: 'search › shows an empty state',
      file: 'search.spec.ts',
      project: 'desktop',
      outcome: 'passed',
      retries: 0,
      duration_ms: expect.any(Number),
      error: null,
    });
  });

  it('says so when nothing matches', async () => {
    const outcome = CaseOutcome.parse(
      await runCase({
        skill: playwrightTest,
        params: { path: SUITE, base_url: shop.url, grep: 'no test is called this' },
        caseName: 'nothing',
        executionId: null,
        timeoutMs: 120_000,
        browsers: pool,
      }),
    );
    expect(outcome).toMatchObject({ status: 'error', error_type: 'system' });
  });
});
