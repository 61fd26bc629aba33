import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  AssertionFailedError,
  SkillError,
  defineSkill,
  z,
  type JsonObject,
  type SkillContext,
} from '@webguard/shared';

const CONFIG_NAMES = ['ts', 'js', 'mjs', 'mts', 'cjs', 'cts'].map(
  (extension) => `playwright.config.${extension}`,
);
/** An attachment above this is noted in the log instead of kept. */
const MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024;
/** How long the runner gets to stop on its own after a timeout or cancel. */
const STOP_GRACE_MS = 5_000;

const Params = z.object({
  path: z
    .string()
    .refine(isAbsolute, 'must be an absolute path')
    .describe('folder of the Playwright project (holding its playwright.config) or of test files'),
  config: z
    .string()
    .optional()
    .describe('config file, absolute or relative to path (default: playwright.config.* in path)'),
  test_match: z
    .string()
    .optional()
    .describe('glob of the test files to run, e.g. "**/*.spec.ts" (default: the config’s)'),
  files: z
    .array(z.string().min(1))
    .optional()
    .describe('only files matching these filters, as in `npx playwright test <filter>`'),
  grep: z.string().optional().describe('only tests whose title matches this regular expression'),
  projects: z.array(z.string().min(1)).optional().describe('only these projects of the config'),
  base_url: z.url().optional().describe('the baseURL the tests run against'),
  workers: z.number().int().min(1).max(16).optional(),
  retries: z.number().int().min(0).max(10).optional(),
  test_timeout_ms: z.number().int().positive().optional().describe('limit for each test (ms)'),
});
type Params = z.output<typeof Params>;

const Attachment = z.object({ name: z.string(), content_type: z.string(), path: z.string() });
const TestIdentity = {
  id: z.string(),
  project: z.string().nullable(),
  file: z.string(),
  title: z.string(),
};
const Outcome = z.enum(['passed', 'failed', 'flaky', 'skipped']);
const Counts = z.object({
  passed: z.number(),
  failed: z.number(),
  flaky: z.number(),
  skipped: z.number(),
});
const ReporterEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('begin'), total: z.number() }),
  z.object({ type: z.literal('test-begin'), ...TestIdentity, retry: z.number() }),
  z.object({
    type: z.literal('test-end'),
    ...TestIdentity,
    retry: z.number(),
    status: z.string(),
    expected_status: z.string(),
    duration_ms: z.number(),
    error: z.string().nullable(),
    attachments: z.array(Attachment),
  }),
  z.object({ type: z.literal('error'), message: z.string() }),
  z.object({
    type: z.literal('end'),
    status: z.string(),
    counts: Counts,
    tests: z.array(
      z.object({
        ...TestIdentity,
        outcome: Outcome,
        retries: z.number(),
        duration_ms: z.number(),
        error: z.string().nullable(),
      }),
    ),
  }),
]);
type ReporterEvent = z.infer<typeof ReporterEvent>;
type TestEnd = Extract<ReporterEvent, { type: 'test-end' }>;
type RunEnd = Extract<ReporterEvent, { type: 'end' }>;

const here = dirname(fileURLToPath(import.meta.url));

/** The config to run and the folder it is in (Playwright resolves relative paths from there). */
function findConfig(params: Params): { file: string | undefined; dir: string } {
  if (!existsSync(params.path)) {
    throw new SkillError('system', `the test folder ${params.path} does not exist on this worker`);
  }
  if (params.config !== undefined) {
    const file = resolve(params.path, params.config);
    if (!existsSync(file)) throw new SkillError('system', `the config ${file} does not exist`);
    return { file, dir: dirname(file) };
  }
  const file = CONFIG_NAMES.map((name) => join(params.path, name)).find((path) => existsSync(path));
  return { file, dir: params.path };
}

/** The suite's own @playwright/test when it has one (as `npx playwright test` would use), else ours. */
function findRunner(configDir: string): string {
  for (const from of [join(configDir, 'package.json'), join(here, 'skill.ts')]) {
    try {
      return createRequire(from).resolve('@playwright/test/cli');
    } catch {
      // Not installed there; try the next place.
    }
  }
  throw new SkillError(
    'system',
    '@playwright/test is not installed where the suite or this skill can find it',
  );
}

/**
 * A config that loads the suite's own and changes only what WebGuard needs: Chromium projects
 * launch the worker's Chromium, results go to WebGuard's reporter and a temporary folder.
 * It sits beside the suite's config so every relative path in it keeps its meaning.
 */
function wrapperConfig(
  userConfig: string | undefined,
  launch: NonNullable<SkillContext['browserLaunch']>,
  overrides: { outputDir: string; reporter: string; baseURL?: string; testMatch?: string },
): string {
  const load = userConfig
    ? `import loaded from ${JSON.stringify(`./${userConfig.split(/[\\/]/).pop()}`)};\nconst base = (await loaded) ?? {};`
    : 'const base = {};';
  return `// Written by WebGuard for one run and deleted afterwards.
${load}
const launch = ${JSON.stringify(launch)};
const overrides = ${JSON.stringify(overrides)};
const isChromium = (use) => !use?.channel && (use?.browserName ?? use?.defaultBrowserType ?? 'chromium') === 'chromium';
const withBaseURL = (use) => (overrides.baseURL ? { ...use, baseURL: overrides.baseURL } : use);
const withChromium = (use, inherited) => ({
  ...withBaseURL(use),
  headless: launch.headless,
  launchOptions: {
    ...inherited?.launchOptions,
    ...use?.launchOptions,
    executablePath: launch.executablePath,
    args: [...(use?.launchOptions?.args ?? inherited?.launchOptions?.args ?? []), ...launch.args],
  },
});
const config = { ...base, outputDir: overrides.outputDir, reporter: [[overrides.reporter]] };
if (overrides.testMatch) config.testMatch = overrides.testMatch;
if (Array.isArray(base.projects)) {
  config.use = withBaseURL(base.use ?? {});
  config.projects = base.projects.map((project) =>
    isChromium({ ...base.use, ...project.use })
      ? { ...project, use: withChromium(project.use ?? {}, base.use) }
      : { ...project, use: withBaseURL(project.use ?? {}) },
  );
} else {
  config.use = isChromium(base.use) ? withChromium(base.use ?? {}, {}) : withBaseURL(base.use ?? {});
}
export default config;
`;
}

function cliArguments(params: Params, config: string): string[] {
  const args = ['test', '--config', config];
  if (params.grep !== undefined) args.push('--grep', params.grep);
  for (const project of params.projects ?? []) args.push('--project', project);
  if (params.workers !== undefined) args.push('--workers', String(params.workers));
  if (params.retries !== undefined) args.push('--retries', String(params.retries));
  if (params.test_timeout_ms !== undefined) args.push('--timeout', String(params.test_timeout_ms));
  return [...args, ...(params.files ?? [])];
}

/** Keeps the last bytes of a stream, for an error message when the runner fails. */
function tail(stream: Readable | null, keep = 4000): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString('utf8')).slice(-keep);
  });
  return () => text.trim();
}

function stepName(event: { project: string | null; file: string; title: string; retry: number }) {
  const project = event.project ? `[${event.project}] ` : '';
  return `${project}${event.file} › ${event.title}${event.retry > 0 ? ` (retry ${event.retry})` : ''}`;
}

/** An attachment name that is a valid artifact name: no slashes, at most 200 characters. */
function attachmentName(event: TestEnd, name: string, path: string): string {
  const suffix = `${event.retry > 0 ? ` (retry ${event.retry})` : ''} – ${name}${extname(path)}`;
  const title = event.title.replace(/[/\\\p{Cc}]+/gu, ' ');
  return `${title.slice(0, Math.max(1, 200 - suffix.length))}${suffix}`;
}

/**
 * Follows the run: each Playwright test attempt becomes a timed step of the case (failed with
 * its error), its screenshots, videos and traces become artifacts of the case.
 */
class RunFollower {
  private readonly open = new Map<string, { end: (error?: Error) => void; done: Promise<void> }>();
  readonly errors: string[] = [];
  end: RunEnd | undefined;

  constructor(private readonly ctx: SkillContext) {}

  async handle(event: ReporterEvent): Promise<void> {
    switch (event.type) {
      case 'test-begin':
        this.begin(event);
        return;
      case 'test-end':
        await this.finish(event);
        return;
      case 'error':
        this.errors.push(event.message);
        this.ctx.log.error(`Playwright: ${event.message.split('\n')[0]}`);
        return;
      case 'end':
        this.end = event;
        return;
      case 'begin':
        this.ctx.log.info(`Playwright found ${event.total} tests`);
    }
  }

  private begin(event: {
    id: string;
    retry: number;
    project: string | null;
    file: string;
    title: string;
  }) {
    let end!: (error?: Error) => void;
    const finished = new Promise<void>((resolvePromise, reject) => {
      end = (error) => (error ? reject(error) : resolvePromise());
    });
    // The step's own failure is recorded by ctx.step; the run goes on.
    const done = this.ctx.step(stepName(event), () => finished).catch(() => undefined);
    this.open.set(`${event.id}#${event.retry}`, { end, done });
  }

  private async finish(event: TestEnd): Promise<void> {
    const key = `${event.id}#${event.retry}`;
    if (!this.open.has(key)) this.begin(event);
    for (const attachment of event.attachments) await this.keep(event, attachment);
    const step = this.open.get(key)!;
    this.open.delete(key);
    const asExpected = event.status === event.expected_status;
    step.end(
      asExpected
        ? undefined
        : new AssertionFailedError(
            event.error ?? `the test ended ${event.status}, expected ${event.expected_status}`,
          ),
    );
    await step.done;
  }

  private async keep(event: TestEnd, attachment: z.infer<typeof Attachment>): Promise<void> {
    try {
      const { size } = await stat(attachment.path);
      if (size > MAX_ATTACHMENT_BYTES) {
        this.ctx.log.warn(
          `${attachment.path} not kept: ${size} bytes is more than an attachment may have`,
        );
        return;
      }
      const name = attachmentName(event, attachment.name, attachment.path);
      await this.ctx.attach(name, await readFile(attachment.path), attachment.content_type);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.ctx.log.warn(`attachment "${attachment.name}" of ${event.title} not kept: ${reason}`);
    }
  }

  /** Steps of attempts that never reported an end (the runner died) fail with `reason`. */
  async abandon(reason: string): Promise<void> {
    const open = [...this.open.values()];
    this.open.clear();
    for (const step of open) step.end(new SkillError('system', reason));
    await Promise.all(open.map((step) => step.done));
  }
}

/** Runs the Playwright CLI and feeds its reporter's events to `follower`; resolves with the exit code. */
async function runPlaywright(
  ctx: SkillContext,
  cli: string,
  args: string[],
  cwd: string,
  follower: RunFollower,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd,
    // Its own process group, so a timeout stops the runner and every worker it started.
    detached: true,
    env: { ...process.env, FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  const stdout = tail(child.stdout);
  const stderr = tail(child.stderr);
  const stop = () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    process.kill(-child.pid, 'SIGTERM');
    setTimeout(() => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, STOP_GRACE_MS).unref();
  };
  ctx.signal.addEventListener('abort', stop, { once: true });
  const exited = new Promise<number | null>((resolveExit, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolveExit(code));
  });
  try {
    const events = child.stdio[3] as Readable;
    for await (const line of createInterface({ input: events, crlfDelay: Infinity })) {
      if (line.trim() === '') continue;
      const event = ReporterEvent.safeParse(JSON.parse(line));
      if (event.success) await follower.handle(event.data);
    }
    const code = await exited;
    return { code, stderr: stderr() || stdout() };
  } finally {
    ctx.signal.removeEventListener('abort', stop);
    stop();
  }
}

export default defineSkill({
  name: 'playwright-test',
  category: 'browser',
  version: '1.0.0',
  description:
    'Runs an existing Playwright Test suite (*.spec.ts) on the worker’s Chromium; each test becomes a step with its error and attachments.',
  params: Params,
  async run(ctx, params) {
    const launch = ctx.browserLaunch;
    if (!launch) {
      throw new SkillError(
        'system',
        'playwright-test needs the worker’s browser: run it on a browser worker',
      );
    }
    const config = findConfig(params);
    const cli = findRunner(config.dir);
    const outputDir = await mkdtemp(join(tmpdir(), 'webguard-playwright-'));
    const wrapper = join(config.dir, `.webguard-${randomBytes(6).toString('hex')}.config.mjs`);
    const follower = new RunFollower(ctx);
    try {
      const overrides = {
        outputDir,
        reporter: join(here, 'reporter.js'),
        ...(params.base_url === undefined ? {} : { baseURL: params.base_url }),
        ...(params.test_match === undefined ? {} : { testMatch: params.test_match }),
      };
      try {
        await writeFile(wrapper, wrapperConfig(config.file, launch, overrides));
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new SkillError(
          'system',
          `cannot write the run's config beside the suite's (${wrapper}): ${reason}`,
        );
      }
      const { code, stderr } = await runPlaywright(
        ctx,
        cli,
        cliArguments(params, wrapper),
        config.dir,
        follower,
      );
      const end = follower.end;
      if (!end) {
        const reason = `Playwright stopped before reporting its results (exit code ${code})`;
        await follower.abandon(reason);
        throw new SkillError('system', `${reason}: ${stderr.split('\n').slice(-10).join('\n')}`);
      }
      return report(ctx, end, follower.errors);
    } finally {
      await rm(wrapper, { force: true });
      await rm(outputDir, { recursive: true, force: true });
    }
  },
});

/** The counts as `npx playwright test` prints them, kept as metrics, a log line and outputs. */
function report(ctx: SkillContext, end: RunEnd, errors: string[]): JsonObject {
  const { counts } = end;
  const total = counts.passed + counts.failed + counts.flaky + counts.skipped;
  for (const [name, value] of Object.entries(counts)) ctx.metric(`tests_${name}`, value);
  const summary = `${counts.passed} passed, ${counts.failed} failed, ${counts.flaky} flaky, ${counts.skipped} skipped`;
  ctx.log.info(`Playwright: ${summary}`, { ...counts, status: end.status });
  for (const test of end.tests) {
    if (test.outcome === 'flaky')
      ctx.log.warn(`flaky: ${stepName({ ...test, retry: 0 })}`, { retries: test.retries });
  }
  if (errors.length > 0) {
    throw new SkillError(
      'system',
      `the Playwright run reported errors: ${errors.map((e) => e.split('\n')[0]).join('; ')}`,
    );
  }
  if (total === 0)
    throw new SkillError(
      'system',
      'no Playwright tests matched: check path, test_match, files and grep',
    );
  if (counts.failed > 0) {
    const failed = end.tests.filter((test) => test.outcome === 'failed').map((test) => test.title);
    throw new AssertionFailedError(
      `${counts.failed} of ${total} Playwright tests failed (${summary}): ${failed.join('; ')}`,
    );
  }
  return {
    ...counts,
    total,
    tests: end.tests.map((test) => ({
      title: test.title,
      file: test.file,
      project: test.project,
      outcome: test.outcome,
      retries: test.retries,
      duration_ms: test.duration_ms,
      error: test.error,
    })),
  };
}
