import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrowserSettings,
  CaseOutcome,
  defineSkill,
  z,
  type SkillContext,
  type SkillDefinition,
} from '@webguard/shared';
import {
  html,
  launchedChromiumPids,
  MemorySink,
  PNG_SIGNATURE,
} from '../../../test/support/browser.js';
import { startFixtureServer } from '../../../test/support/fixture-server.js';
import { waitFor } from '../../../test/support/wait-for.js';
import { readZip } from '../../../test/support/zip.js';
import type { ArtifactSink } from '../artifact-sink.js';
import { runCase } from '../run-case.js';
import { BrowserPool } from './browser-pool.js';
import { BrowserUnavailableError, findChromium } from './find-executables.js';

const FORM = `
  <form onsubmit="event.preventDefault(); document.querySelector('#result').textContent = 'Thanks, ' + this.name.value">
    <input name="name" aria-label="Name"><button>Send</button>
  </form>
  <p id="result"></p>`;

/** A browser skill whose run is the given function, with the standard `browser` param. */
function browserSkill(
  run: (ctx: SkillContext, params: { url: string }) => Promise<unknown>,
): SkillDefinition {
  return defineSkill({
    name: 'browser-test',
    category: 'browser',
    version: '1.0.0',
    description: 'drives a fixture page',
    params: z.object({ url: z.string(), browser: BrowserSettings.optional() }),
    run: async (ctx, params) => {
      await run(ctx, params);
    },
  });
}

const fillForm = browserSkill(async (ctx, { url }) => {
  const page = ctx.page!;
  await ctx.step('open', () => page.goto(`${url}/form`));
  await ctx.step('fill', () => page.getByLabel('Name').fill('Ada'));
  await ctx.step('send', () => page.getByRole('button', { name: 'Send' }).click());
  await ctx.step('check', async () =>
    ctx.expect(await page.locator('#result').textContent(), 'result').toBe('Thanks, Ada'),
  );
});

describe('browser cases', () => {
  let server: Awaited<ReturnType<typeof startFixtureServer>>;
  let pool: BrowserPool;
  const seenHeaders: Record<string, string | string[] | undefined>[] = [];

  beforeAll(async () => {
    server = await startFixtureServer({
      '/form': html(FORM),
      '/noisy': html(`
        <img src="/missing.png">
        <script>console.error('widget failed to load'); fetch('/api/broken');</script>`),
      '/api/broken': (_request, response) => response.writeHead(500).end('boom'),
      '/private': (request, response) => {
        seenHeaders.push(request.headers);
        const expected = `Basic ${Buffer.from('qa:secret').toString('base64')}`;
        if (request.headers.authorization !== expected) {
          response.writeHead(401, { 'www-authenticate': 'Basic realm="fixture"' }).end();
          return;
        }
        html('<h1>Members only</h1>')(request, response);
      },
      '/blank': html('<p>nothing here</p>'),
    });
    pool = new BrowserPool({ searchPath: process.env.PATH ?? '' });
  });

  afterAll(async () => {
    await pool?.close();
    await server?.close();
  });

  const run = async (
    skill: SkillDefinition,
    params: Record<string, unknown> = {},
    options: { timeoutMs?: number; artifacts?: ArtifactSink } = {},
  ) =>
    CaseOutcome.parse(
      await runCase({
        skill,
        params: { url: server.url, ...params },
        caseName: 'browser case',
        executionId: null,
        timeoutMs: options.timeoutMs ?? 30_000,
        browsers: pool,
        artifacts: options.artifacts,
      }),
    );

  it('passes a flow on a fresh context and closes it afterwards', async () => {
    const sink = new MemorySink();
    const onFailure = { browser: { video: 'on-failure', trace: 'on-failure' } };
    const outcome = await run(fillForm, onFailure, { artifacts: sink });
    expect(outcome).toMatchObject({ status: 'passed', error_type: null });
    expect(outcome.steps.map((step) => [step.name, step.status])).toEqual([
      ['open', 'passed'],
      ['fill', 'passed'],
      ['send', 'passed'],
      ['check', 'passed'],
    ]);
    // Video and trace were recorded, and dropped: nothing failed.
    expect(sink.files.map((file) => [file.name, file.body.toString()])).toEqual([]);
    expect(pool.openContexts).toBe(0);
  });

  it('fails on an assertion with a screenshot of the moment and the failed step named', async () => {
    const sink = new MemorySink();
    const skill = browserSkill(async (ctx, { url }) => {
      await ctx.page!.goto(`${url}/form`);
      await ctx.step('heading says welcome', async () =>
        ctx.expect(await ctx.page!.title(), 'title').toBe('Welcome'),
      );
    });
    const onFailure = { browser: { video: 'on-failure', trace: 'on-failure' } };
    const outcome = await run(skill, onFailure, { artifacts: sink });
    expect(outcome).toMatchObject({
      status: 'failed',
      error_type: 'assertion',
      error_message: 'title ("Fixture") was expected to be "Welcome"',
    });
    expect(outcome.steps).toEqual([
      expect.objectContaining({ name: 'heading says welcome', status: 'failed' }),
    ]);
    const screenshot = sink.named('failure.png');
    expect(screenshot).toMatchObject({ kind: 'screenshot', contentType: 'image/png' });
    expect(screenshot!.body.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(sink.named('trace.zip')).toMatchObject({
      kind: 'trace',
      contentType: 'application/zip',
    });
    expect(sink.named('video.mp4')).toMatchObject({ kind: 'video', contentType: 'video/mp4' });
    expect(pool.openContexts).toBe(0);
  });

  it('ends a case that outlives its limit as a timeout, still with a screenshot', async () => {
    const sink = new MemorySink();
    const skill = browserSkill(async (ctx, { url }) => {
      await ctx.page!.goto(`${url}/blank`);
      await ctx.step('wait for the banner', () =>
        ctx.page!.waitForSelector('#banner', { timeout: 60_000 }),
      );
    });
    const outcome = await run(skill, {}, { timeoutMs: 1_500, artifacts: sink });
    expect(outcome).toMatchObject({ status: 'timeout', error_type: 'timeout' });
    expect(outcome.steps).toEqual([
      expect.objectContaining({ name: 'wait for the banner', status: 'failed' }),
    ]);
    expect(sink.named('failure.png')?.body.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(pool.openContexts).toBe(0);
  });

  it('keeps a video, a trace the trace viewer can open and on-demand screenshots', async () => {
    const sink = new MemorySink();
    const skill = browserSkill(async (ctx, { url }) => {
      await ctx.page!.goto(`${url}/form`);
      await ctx.page!.getByLabel('Name').fill('Grace');
      await ctx.screenshot('filled in');
      await ctx.attach('notes.json', JSON.stringify({ filled: true }), 'application/json');
    });
    const outcome = await run(
      skill,
      { browser: { video: 'always', trace: 'always' } },
      { artifacts: sink },
    );
    expect(outcome.status).toBe('passed');
    expect(sink.files.map((file) => [file.kind, file.name]).sort()).toEqual([
      ['attachment', 'notes.json'],
      ['screenshot', 'filled in.png'],
      ['trace', 'trace.zip'],
      ['video', 'video.mp4'],
    ]);

    const video = sink.named('video.mp4')!;
    expect(video.contentType).toBe('video/mp4');
    // An MP4 opens with an `ftyp` box.
    expect(video.body.toString('latin1', 4, 8)).toBe('ftyp');
    expect(video.body.length).toBeGreaterThan(1000);

    const entries = readZip(sink.named('trace.zip')!.body);
    expect([...entries.keys()]).toEqual(expect.arrayContaining(['trace.trace', 'trace.network']));
    const events = entries
      .get('trace.trace')!
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; version?: number; method?: string });
    expect(events[0]).toMatchObject({ type: 'context-options', version: expect.any(Number) });
    expect(events.some((event) => event.type === 'before' && event.method === 'fill')).toBe(true);
    expect(sink.named('notes.json')!.body.toString()).toBe('{"filled":true}');
  });

  it('captures console errors and failed requests as the browser log', async () => {
    const sink = new MemorySink();
    const skill = browserSkill(async (ctx, { url }) => {
      const broken = ctx.page!.waitForResponse((response) =>
        response.url().endsWith('/api/broken'),
      );
      await ctx.page!.goto(`${url}/noisy`);
      await broken;
    });
    const outcome = await run(skill, {}, { artifacts: sink });
    expect(outcome.status).toBe('passed');
    const log = sink.named('browser.log');
    expect(log).toMatchObject({ kind: 'log', contentType: 'text/plain; charset=utf-8' });
    const text = log!.body.toString('utf8');
    expect(text).toContain('console.error: widget failed to load');
    expect(text).toMatch(/response 404: GET http:\/\/127\.0\.0\.1:\d+\/missing\.png/);
    expect(text).toMatch(/response 500: GET http:\/\/127\.0\.0\.1:\d+\/api\/broken/);
  });

  it('applies viewport, locale, time zone, headers, basic auth and device emulation', async () => {
    const probe = browserSkill(async (ctx, { url }) => {
      const page = ctx.page!;
      await page.goto(`${url}/private`);
      ctx.expect(await page.textContent('h1'), 'heading').toBe('Members only');
      const seen = await page.evaluate(() => ({
        width: window.screen.width,
        language: navigator.language,
        zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
        touch: navigator.maxTouchPoints > 0,
      }));
      ctx.log.info('seen', seen);
    });
    const outcome = await run(probe, {
      browser: {
        viewport: { width: 800, height: 600 },
        locale: 'de-DE',
        timezone: 'Asia/Tokyo',
        extra_headers: { 'x-test-run': 'nightly' },
        basic_auth: { username: 'qa', password: 'secret' },
      },
    });
    expect(outcome.status).toBe('passed');
    expect(outcome.logs[0]?.data).toEqual({
      width: 800,
      language: 'de-DE',
      zone: 'Asia/Tokyo',
      touch: false,
    });
    expect(seenHeaders.at(-1)).toMatchObject({
      'x-test-run': 'nightly',
      'accept-language': expect.stringContaining('de-DE'),
    });

    const phone = await run(probe, {
      browser: { device: 'iPhone 13', basic_auth: { username: 'qa', password: 'secret' } },
    });
    expect(phone.logs[0]?.data).toMatchObject({ width: 390, touch: true });
    expect(seenHeaders.at(-1)?.['user-agent']).toContain('iPhone');

    const unknown = await run(probe, { browser: { device: 'Nokia 3310' } });
    expect(unknown).toMatchObject({ status: 'error', error_type: 'system' });
    expect(unknown.error_message).toContain('unknown device "Nokia 3310"');
    expect(pool.openContexts).toBe(0);
  });

  it('ends the case whose page crashed as a system error and leaves a parallel case alone', async () => {
    const crashing = browserSkill(async (ctx, { url }) => {
      await ctx.page!.goto(`${url}/blank`);
      const session = await ctx.browserContext!.newCDPSession(ctx.page!);
      await session.send('Page.crash').catch(() => undefined);
      await ctx.page!.textContent('p');
    });
    const [crashed, neighbour] = await Promise.all([run(crashing), run(fillForm)]);
    expect(crashed).toMatchObject({ status: 'error', error_type: 'system' });
    expect(crashed.error_message).toContain('the page crashed');
    expect(neighbour.status).toBe('passed');
    expect(pool.openContexts).toBe(0);
  });

  it('relaunches Chromium after it dies mid-case; the next case runs on the new one', async () => {
    const launchesBefore = pool.launches;
    let reachedPage!: () => void;
    const onPage = new Promise<void>((resolve) => (reachedPage = resolve));
    const victim = browserSkill(async (ctx, { url }) => {
      await ctx.page!.goto(`${url}/blank`);
      reachedPage();
      await ctx.page!.waitForSelector('#never', { timeout: 30_000 });
    });
    const running = run(victim);
    await onPage;
    const [pid] = launchedChromiumPids();
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGKILL');

    const crashed = await running;
    expect(crashed).toMatchObject({ status: 'error', error_type: 'system' });
    expect(crashed.error_message).toContain('Chromium crashed or disconnected');

    // The retry (or any next case) gets a new browser.
    const next = await run(fillForm);
    expect(next.status).toBe('passed');
    expect(pool.launches).toBe(launchesBefore + 1);
    await waitFor(async () => (launchedChromiumPids().length === 1 ? true : undefined), {
      what: 'the killed Chromium to be gone',
    });
  });
});

describe('findChromium', () => {
  it('takes a configured path only when it is an executable', () => {
    expect(() => findChromium({ override: '/nonexistent/chrome', searchPath: '' })).toThrow(
      BrowserUnavailableError,
    );
    expect(findChromium({ override: process.execPath, searchPath: '' })).toEqual({
      path: process.execPath,
      source: 'config',
    });
  });

  it('finds a system Chromium on the PATH, and says how to get one when there is none', () => {
    expect(findChromium({ searchPath: process.env.PATH ?? '' }).path).toMatch(/chrom/);
    // A service started with a bare PATH still finds the system's Chromium.
    expect(findChromium({ searchPath: '' }).path).toMatch(/chrom/);
    expect(() => findChromium({ searchPath: '/nonexistent', fallbackDirs: [] })).toThrow(
      /apt-get install chromium.*WEBGUARD_CHROMIUM_PATH/,
    );
  });
});
