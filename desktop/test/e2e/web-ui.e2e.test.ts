// The web UI end to end: a real WebGuard (API, workers, live relay) serving the built renderer,
// driven by real Chromium the way a tester clicks through it.
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium } from '../../../server/src/engine/browser/index.js';
import { html } from '../../../server/test/support/browser.js';
import { startFixtureServer } from '../../../server/test/support/fixture-server.js';
import { freePort } from '../../../server/test/support/redis-helpers.js';
import {
  TEST_ADMIN,
  startTestRuntime,
  type TestRuntime,
} from '../../../server/test/support/test-runtime.js';

const WEB_UI = fileURLToPath(new URL('../../dist/web', import.meta.url));
/** Screenshots of the main pages, kept for people to look at (gitignored). */
const SHOTS = fileURLToPath(new URL('../../test-artifacts', import.meta.url));

let wg: TestRuntime;
let site: Awaited<ReturnType<typeof startFixtureServer>>;
let browser: Browser;
let page: Page;
let baseUrl: string;

const shot = (name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

/** The page module: what a tester sees, addressed by test ids. */
const ui = {
  byTestId: (id: string) => page.getByTestId(id),
  async go(nav: 'dashboard' | 'suites' | 'runs' | 'flaky' | 'skills' | 'local') {
    await page.getByTestId(`nav-${nav}`).click();
  },
  async chooseSkill(name: string) {
    await page.getByTestId('case-skill-select').click();
    await page.getByRole('option', { name: new RegExp(`^${name} ·`) }).click();
  },
  async addCase(name: string, skill: string, fill: () => Promise<void>) {
    await page.getByTestId('add-case-button').click();
    await page.getByTestId('case-name-input').fill(name);
    await ui.chooseSkill(skill);
    await fill();
    await page.getByTestId('save-case-button').click();
    await page.getByTestId('case-item').filter({ hasText: name }).waitFor();
  },
};

beforeAll(async () => {
  if (!existsSync(`${WEB_UI}/index.html`)) {
    throw new Error(`the web UI is not built at ${WEB_UI}: run "npm run build" first`);
  }
  mkdirSync(SHOTS, { recursive: true });
  site = await startFixtureServer({
    '/shop': html('<h1 id="title">Spring sale</h1><p id="price">42 EUR</p>', 'Shop'),
  });
  wg = await startTestRuntime({ PORT: String(await freePort()) }, { listen: true });
  baseUrl = wg.runtime.url!;
  const executablePath = findChromium({ searchPath: process.env['PATH'] ?? '' }).path;
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await wg?.stop();
  await site?.close();
});

describe('web UI', () => {
  it('serves the app at / and on client routes, and leaves the API its paths', async () => {
    const root = await fetch(`${baseUrl}/`);
    expect(root.headers.get('content-type')).toContain('text/html');
    expect(await root.text()).toContain('<div id="root">');
    const deep = await fetch(`${baseUrl}/runs/42`, { headers: { accept: 'text/html' } });
    expect(deep.status).toBe(200);
    expect(deep.headers.get('content-security-policy')).toContain("script-src 'self'");
    const api = await fetch(`${baseUrl}/api/v1/nothing-here`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(401);
    const health = await fetch(`${baseUrl}/healthz`, { headers: { accept: 'text/html' } });
    expect(health.headers.get('content-type')).toContain('application/json');
  });

  it('connects, builds a suite from skill forms, runs it live and shows the failure with its screenshot', async () => {
    const token = wg.authHeaders().authorization?.replace(/^Bearer /, '') ?? '';

    // 1. Connect: the server is the page's own origin; a wrong token is refused in words.
    await page.goto(baseUrl);
    await expect.poll(() => page.getByTestId('server-url-input').inputValue()).toBe(baseUrl);
    await shot('connect');
    await page.getByTestId('token-input').fill('not-a-real-token');
    await page.getByTestId('connect-button').click();
    await page.getByTestId('connect-problem').waitFor();
    if (token !== '') {
      await page.getByTestId('token-input').fill(token);
    }
    await page.getByTestId('connect-button').click();

    // 2. The dashboard of an empty server.
    await page.getByTestId('stat-pass-rate').waitFor();
    expect(await page.getByTestId('stat-pass-rate').textContent()).toBe('—');
    await page
      .getByTestId('connection-status')
      .filter({ hasText: /^live$/ })
      .waitFor();
    await shot('dashboard-empty');

    // 3. A suite with two cases, each filled in through the form generated from its skill.
    await ui.go('suites');
    await page.getByTestId('empty-state').getByTestId('new-suite-button').click();
    await page.getByTestId('suite-name-input').fill('storefront');
    await page.getByTestId('create-suite-button').click();
    await page.getByTestId('add-case-button').waitFor();
    await ui.addCase('says hello', 'echo', async () => {
      await page.getByTestId('param-message').fill('hello from the UI');
    });
    await ui.addCase('price check', 'browser-flow', async () => {
      const steps = [
        { action: 'goto', url: `${site.url}/shop` },
        { action: 'expect_text', selector: '#price', text: '19 EUR', timeout_ms: 10_000 },
      ];
      await page.getByTestId('param-steps').fill(JSON.stringify(steps));
    });
    await shot('suite-editor');

    // 4. Run it and watch the live view reach its final status.
    await page.getByTestId('run-suite-button').click();
    await page.waitForURL(/\/runs\/\d+$/);
    const runView = page.locator('[data-testid="run-view"][data-run-status="failed"]');
    await runView.waitFor({ timeout: 90_000 });
    expect(await page.getByTestId('run-passed').textContent()).toBe('1');
    expect(await page.getByTestId('run-failed').textContent()).toBe('1');

    // 5. The failed case: its error, and the screenshot taken when it failed.
    await page.locator('[data-testid="case-row"][data-case="price check"]').click();
    const detail = page.getByTestId('case-detail');
    await detail.getByTestId('case-error').filter({ hasText: '19 EUR' }).waitFor();
    await detail.getByTestId('tab-files').click();
    const screenshot = detail.getByTestId('screenshot').first();
    await screenshot.waitFor();
    await expect
      .poll(() => screenshot.evaluate((image: HTMLImageElement) => image.naturalWidth), {
        timeout: 15_000,
      })
      .toBeGreaterThan(0);
    await shot('run-failed-case');

    // 6. The dashboard counts the run.
    await ui.go('dashboard');
    await page.getByTestId('stat-pass-rate').filter({ hasText: '50%' }).waitFor();
    await page.getByTestId('trend-chart').waitFor();
    await page.getByTestId('daily-trend').waitFor();
    await shot('dashboard');

    // 7. The other pages a tester opens, for the record.
    await ui.go('runs');
    await page.getByTestId('runs-table').waitFor();
    await shot('runs');
    await ui.go('skills');
    await page.getByTestId('skills-list').waitFor();
    await page.getByRole('button', { name: /browser-flow/ }).click();
    await page.getByText('Form preview').waitFor();
    await shot('skills');
    await ui.go('flaky');
    await page
      .getByText(/No flaky tests|Failure rate/)
      .first()
      .waitFor();
    await shot('flaky');
    await ui.go('local');
    await page.getByTestId('local-runner-web').waitFor();
    await shot('local-runner-web');
  }, 180_000);

  it('signs in with e-mail and password, and says so when they are wrong', async () => {
    await page.goto(baseUrl);
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await page.getByText('Sign in', { exact: true }).click();
    await page.getByTestId('email-input').fill(TEST_ADMIN.email);
    await page.getByTestId('password-input').fill('not the password');
    await page.getByTestId('connect-button').click();
    await page
      .getByTestId('connect-problem')
      .filter({ hasText: 'Wrong e-mail or password' })
      .waitFor();
    await page.getByTestId('password-input').fill(TEST_ADMIN.password);
    await page.getByTestId('connect-button').click();
    await page.getByTestId('stat-pass-rate').waitFor();
    // The session survives a reload: the app reconnects with what it stored.
    await page.reload();
    await page.getByTestId('stat-pass-rate').waitFor();
  });

  it('says when a run does not exist', async () => {
    await page.goto(`${baseUrl}/runs/999999`);
    await page.getByTestId('error-state').filter({ hasText: 'Not found' }).waitFor();
  });
});
