import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { html, launchedChromiumPids, PNG_SIGNATURE } from '../../../../../test/support/browser.js';
import { startFixtureServer } from '../../../../../test/support/fixture-server.js';
import { startTestRuntime, type TestRuntime } from '../../../../../test/support/test-runtime.js';
import { waitFor } from '../../../../../test/support/wait-for.js';

interface Result {
  id: number;
  test_name: string;
  status: string;
  error_type: string | null;
  error_message: string | null;
  retry_count: number;
  screenshot_url: string | null;
  video_url: string | null;
  log_url: string | null;
}

const FORM = `
  <input id="name" aria-label="Name">
  <button onclick="document.querySelector('#greeting').textContent = 'Hello ' + document.querySelector('#name').value">Greet</button>
  <p id="greeting"></p>
  <script>console.error('analytics blocked')</script>`;

/** Renderer processes of the Chromium this process launched: about one per open page. */
function rendererCount(): number {
  const [browser] = launchedChromiumPids();
  if (browser === undefined) return 0;
  const profile = /--user-data-dir=([^\0]+)/.exec(
    readFileSync(`/proc/${browser}/cmdline`, 'utf8'),
  )?.[1];
  if (!profile) return 0;
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmdline.includes(profile) && cmdline.includes('--type=renderer');
      } catch {
        return false; // gone while we looked
      }
    }).length;
}

describe('browser cases through the API, with their artifacts', () => {
  let wg: TestRuntime;
  let site: Awaited<ReturnType<typeof startFixtureServer>>;
  let flakyVisits = 0;

  beforeAll(async () => {
    site = await startFixtureServer({
      '/form': html(FORM, 'Greeter'),
      // The first visit kills the browser under the case; the retry finds the page ready.
      '/fragile': (request, response) => {
        flakyVisits += 1;
        if (flakyVisits === 1) {
          html('<p>loading…</p>')(request, response);
          setTimeout(() => {
            for (const pid of launchedChromiumPids()) process.kill(pid, 'SIGKILL');
          }, 300);
          return;
        }
        html('<p id="ready">ready</p>')(request, response);
      },
    });
    wg = await startTestRuntime({ PATH: process.env.PATH ?? '' });
  });

  afterAll(async () => {
    await wg?.stop();
    await site?.close();
  });

  const post = async (url: string, payload: object) => {
    const response = await wg.inject({ method: 'POST', url, payload });
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json();
  };

  /** Creates a suite of the given cases, runs it and returns the finished execution. */
  async function runSuite(name: string, cases: object[]) {
    const suite = await post('/api/v1/suites', { name, max_concurrent_tests: 100 });
    for (const testCase of cases) await post(`/api/v1/suites/${suite.id}/cases`, testCase);
    const { execution_id } = await post('/api/v1/executions', { suite_id: suite.id });
    return waitFor(
      async () => {
        const execution = (await wg.inject(`/api/v1/executions/${execution_id}`)).json();
        return execution.completed_at
          ? (execution as { status: string; results: Result[] })
          : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 250, what: `suite ${name} to finish` },
    );
  }

  const greet = (name: string, expected: string) => ({
    name,
    skill_name: 'browser-flow',
    params: {
      steps: [
        { action: 'goto', url: `${site.url}/form` },
        { action: 'fill', selector: '#name', value: name },
        { action: 'click', selector: 'text=Greet' },
        { action: 'expect_text', selector: '#greeting', text: expected, timeout_ms: 1_000 },
        { action: 'screenshot', name: 'greeted' },
      ],
    },
  });

  it('keeps the failure screenshot and the browser log and serves them', async () => {
    const execution = await runSuite('greeter', [
      greet('Ada', 'Hello Ada'),
      greet('Grace', 'Goodbye Grace'),
    ]);
    expect(execution.status).toBe('failed');
    const failed = execution.results.find((result) => result.test_name === 'Grace')!;
    expect(failed).toMatchObject({
      status: 'failed',
      error_type: 'assertion',
      screenshot_url: expect.stringMatching(/^\/api\/v1\/artifacts\/\d+$/),
      video_url: null,
      log_url: expect.stringMatching(/^\/api\/v1\/artifacts\/\d+$/),
    });

    const listed = (await wg.inject(`/api/v1/results/${failed.id}/artifacts`)).json();
    expect(
      listed.items.map((item: { kind: string; name: string }) => [item.kind, item.name]),
    ).toEqual([
      ['screenshot', 'failure.png'],
      ['log', 'browser.log'],
    ]);

    const screenshot = await wg.inject(failed.screenshot_url!);
    expect(screenshot.statusCode).toBe(200);
    expect(screenshot.headers['content-type']).toBe('image/png');
    expect(screenshot.headers['content-disposition']).toContain('failure.png');
    expect(screenshot.headers['content-security-policy']).toBe('sandbox');
    expect(screenshot.rawPayload.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect((await wg.inject(failed.log_url!)).body).toContain('console.error: analytics blocked');

    // The passing case keeps its on-demand screenshot as its main one.
    const passed = execution.results.find((result) => result.test_name === 'Ada')!;
    expect(passed.status).toBe('passed');
    expect((await wg.inject(passed.screenshot_url!)).headers['content-disposition']).toContain(
      'greeted.png',
    );
  });

  it('hands out expiring links that work without credentials', async () => {
    const execution = await runSuite('linked', [greet('Linus', 'Hello Linus')]);
    const artifactUrl = execution.results[0]!.screenshot_url!;
    const link = await wg.inject(`${artifactUrl}/link?expires_in=60`);
    expect(link.statusCode).toBe(200);
    const { url, expires_at } = link.json();
    expect(Date.parse(expires_at)).toBeGreaterThan(Date.now());
    const signed = new URL(url);
    const download = await wg.inject(signed.pathname + signed.search);
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.subarray(0, 8)).toEqual(PNG_SIGNATURE);

    signed.searchParams.set('expires', String(Number(signed.searchParams.get('expires')) - 3600));
    const stale = await wg.inject(signed.pathname + signed.search);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().error).toMatchObject({ code: 'FORBIDDEN' });
    expect((await wg.inject(`${artifactUrl}/link?expires_in=0`)).statusCode).toBe(400);
    expect((await wg.inject('/api/v1/artifacts/987654')).statusCode).toBe(404);
  });

  it('retries a case whose browser crashed under it; the retry runs on a new browser', async () => {
    const execution = await runSuite('fragile', [
      {
        name: 'fragile page',
        skill_name: 'browser-flow',
        retries: 1,
        params: {
          steps: [
            { action: 'goto', url: `${site.url}/fragile` },
            { action: 'wait_for', selector: '#ready', timeout_ms: 20_000 },
          ],
        },
      },
    ]);
    const fragile = execution.results.find((result) => result.test_name === 'fragile page')!;
    expect(fragile).toMatchObject({ status: 'passed', retry_count: 1 });
    expect(flakyVisits).toBe(2);
  }, 120_000);

  it('completes 50 browser cases queued at once at the default concurrency, closing every page', async () => {
    // Lean cases: the point is how many run, not what each does.
    const cases = Array.from({ length: 50 }, (_, index) => ({
      name: `visit ${index}`,
      skill_name: 'browser-flow',
      params: {
        steps: [
          { action: 'goto', url: `${site.url}/form` },
          { action: 'expect_title', title: 'Greeter' },
        ],
      },
    }));
    const rssBefore = process.memoryUsage().rss;
    const execution = await runSuite('fifty', cases);
    expect(execution.results).toHaveLength(50);
    expect(execution.results.filter((result) => result.status !== 'passed')).toEqual([]);
    expect(execution.status).toBe('passed');
    // Contexts are closed after each case: no page is left open once the run is over.
    await waitFor(async () => (rendererCount() <= 1 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'renderer processes to exit',
    });
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(300 * 1024 * 1024);
  }, 240_000);
});
