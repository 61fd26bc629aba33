import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  devices,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
} from 'playwright-core';
import {
  ArtifactName,
  BrowserSettings,
  SkillError,
  type CaptureMode,
  type SkillLogger,
} from '@webguard/shared';
import type { Logger } from 'pino';
import type { ArtifactSink } from '../artifact-sink.js';
import { BrowserLog } from './browser-log.js';
import type { BrowserPool } from './browser-pool.js';
import { VideoRecording } from './video-recording.js';

const DEFAULT_VIEWPORT = { width: 1280, height: 720 };
/** Limits for the capture work after a case: a hung page must not hold the worker. */
const SCREENSHOT_TIMEOUT_MS = 10_000;
const CAPTURE_TIMEOUT_MS = 30_000;
const CLOSE_TIMEOUT_MS = 15_000;

export interface CaseBrowserOptions {
  /** The case's `browser` param, already validated. */
  settings: BrowserSettings | undefined;
  /** Where screenshots, video, trace and the browser log go; none means nothing is captured. */
  artifacts: ArtifactSink | undefined;
  caseName: string;
  /** Where "not kept" notes go when there is no artifact store. */
  logger?: Logger;
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

/** Rejects when `promise` takes longer than `ms`, naming what took so long. */
async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Playwright context options for the case's settings; an unknown device is the case's error. */
function contextOptions(settings: BrowserSettings | undefined): BrowserContextOptions {
  let device: BrowserContextOptions = {};
  if (settings?.device !== undefined) {
    const descriptor = (devices as Record<string, (typeof devices)[keyof typeof devices]>)[
      settings.device
    ];
    if (!descriptor) {
      throw new SkillError(
        'system',
        `unknown device "${settings.device}": use a name from Playwright's device list, e.g. "iPhone 13", "Pixel 7" or "Desktop Chrome"`,
      );
    }
    // Playwright ignores the descriptor's preferred engine when it creates a context.
    device = descriptor;
  }
  return {
    ...device,
    viewport: settings?.viewport ?? device.viewport ?? DEFAULT_VIEWPORT,
    locale: settings?.locale,
    timezoneId: settings?.timezone,
    userAgent: settings?.user_agent ?? device.userAgent,
    extraHTTPHeaders: settings?.extra_headers,
    httpCredentials: settings?.basic_auth,
    ignoreHTTPSErrors: settings?.ignore_https_errors,
  };
}

const keeps = (mode: CaptureMode, failed: boolean) =>
  mode === 'always' || (mode === 'on-failure' && failed);

/**
 * The browser side of one case: a fresh context and page on the pool's shared Chromium, the
 * captures it asked for, and the clean-up. `finish` must be called once the case has ended.
 */
export class CaseBrowser {
  private crashReason: string | undefined;
  /** Things the tester should know, written to the case log when it ends. */
  private readonly notes: string[] = [];

  private constructor(
    private readonly pool: BrowserPool,
    private readonly browser: Browser,
    readonly context: BrowserContext,
    readonly page: Page,
    private readonly options: CaseBrowserOptions,
    private readonly capture: {
      video: CaptureMode;
      trace: CaptureMode;
      recording: VideoRecording | undefined;
      browserLog: BrowserLog;
      /** Where video and trace are written before they are kept; only when recording. */
      tempDir: string | undefined;
    },
  ) {}

  /** Opens the case's context and page, and starts the captures its settings ask for. */
  static async open(pool: BrowserPool, options: CaseBrowserOptions): Promise<CaseBrowser> {
    const settings = options.settings;
    const contextSettings = contextOptions(settings);
    const capturing = options.artifacts !== undefined;
    const video = capturing ? (settings?.video ?? pool.video) : 'off';
    const trace = capturing ? (settings?.trace ?? pool.trace) : 'off';

    const browser = await pool.acquire();
    const context = await browser.newContext(contextSettings);
    let tempDir: string | undefined;
    try {
      if (video !== 'off' || trace !== 'off') {
        tempDir = await mkdtemp(join(tmpdir(), 'webguard-case-'));
      }
      const browserLog = new BrowserLog(context);
      if (trace !== 'off') {
        await context.tracing.start({
          screenshots: true,
          snapshots: true,
          title: options.caseName,
        });
      }
      const page = await context.newPage();
      const viewport = contextSettings.viewport ?? DEFAULT_VIEWPORT;
      const started =
        video === 'off' ? undefined : await VideoRecording.start(context, page, viewport);
      const recording = started instanceof VideoRecording ? started : undefined;
      const caseBrowser = new CaseBrowser(pool, browser, context, page, options, {
        video,
        trace,
        recording,
        browserLog,
        tempDir,
      });
      if (started && !(started instanceof VideoRecording)) {
        caseBrowser.notes.push(`no video for this case: ${started.unavailable}`);
      }
      caseBrowser.watchForCrashes();
      return caseBrowser;
    } catch (error) {
      await context.close().catch(() => undefined);
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
      throw error;
    }
  }

  private readonly onDisconnect = () => this.crashed('Chromium crashed or disconnected');

  private watchForCrashes(): void {
    this.browser.once('disconnected', this.onDisconnect);
    this.capture.browserLog.watch(this.page, () => {
      this.crashed('the page crashed: its renderer process died (for example out of memory)');
      // Closing the dead page fails the skill's pending calls now instead of at their timeout.
      void this.page.close().catch(() => undefined);
    });
  }

  /** How the case's Chromium was launched. */
  get launchInfo() {
    return this.pool.launchInfo;
  }

  /** Set when the browser or the page died under the case: the case cannot be trusted. */
  get crash(): string | undefined {
    return this.crashReason;
  }

  private crashed(reason: string): void {
    if (this.crashReason !== undefined) return;
    this.crashReason = reason;
    this.capture.browserLog.add(reason);
  }

  /** `ctx.screenshot(name)`: the page as it is now, kept as a PNG artifact. */
  async screenshot(name: string): Promise<void> {
    const checked = ArtifactName.safeParse(name);
    if (!checked.success) {
      throw new SkillError(
        'system',
        `ctx.screenshot: the name ${JSON.stringify(name)} ${checked.error.issues[0]?.message ?? 'is invalid'}`,
      );
    }
    const fileName = /\.png$/i.test(checked.data) ? checked.data : `${checked.data}.png`;
    const body = await this.page.screenshot({ type: 'png' });
    await this.keep('screenshot', fileName, 'image/png', { body });
  }

  /**
   * Captures what the ended case needs (failure screenshot, video, trace, browser log) and
   * closes its context. Never throws: a capture that fails is noted in the case log.
   */
  async finish(failed: boolean, log: SkillLogger): Promise<void> {
    const { recording, trace, video, browserLog, tempDir } = this.capture;
    const alive = this.crashReason === undefined && this.browser.isConnected();
    for (const note of this.notes) log.warn(note);
    const attempt = async (what: string, work: () => Promise<void>) => {
      try {
        await work();
      } catch (error) {
        log.warn(`${what} could not be kept: ${describeError(error)}`);
      }
    };
    try {
      // 1. The moment it failed, before anything else changes the page.
      if (failed && alive && this.options.artifacts) {
        await attempt('the failure screenshot', async () => {
          const body = await this.page.screenshot({ type: 'png', timeout: SCREENSHOT_TIMEOUT_MS });
          await this.keep('screenshot', 'failure.png', 'image/png', { body });
        });
      }
      // 2. Video and trace, kept or dropped by their mode.
      if (recording && alive) {
        await attempt('the video', async () => {
          if (!keeps(video, failed))
            return bounded(recording.discard(), CAPTURE_TIMEOUT_MS, 'dropping the video');
          const file = join(tempDir!, 'video.mp4');
          const written = await bounded(
            recording.stopTo(file),
            CAPTURE_TIMEOUT_MS,
            'saving the video',
          );
          if (written) await this.keep('video', 'video.mp4', 'video/mp4', { path: file });
        });
      }
      if (trace !== 'off' && alive) {
        await attempt('the Playwright trace', async () => {
          if (!keeps(trace, failed)) {
            return bounded(this.context.tracing.stop(), CAPTURE_TIMEOUT_MS, 'dropping the trace');
          }
          const file = join(tempDir!, 'trace.zip');
          await bounded(
            this.context.tracing.stop({ path: file }),
            CAPTURE_TIMEOUT_MS,
            'saving the trace',
          );
          await this.keep('trace', 'trace.zip', 'application/zip', { path: file });
        });
      }
      // 3. Console errors and failed requests, whenever there were any.
      if (!browserLog.isEmpty && this.options.artifacts) {
        await attempt('the browser log', () =>
          this.keep('log', 'browser.log', 'text/plain; charset=utf-8', {
            body: new TextEncoder().encode(browserLog.text()),
          }),
        );
      }
    } finally {
      // 4. Close the context: a browser that cannot even do that is replaced.
      this.browser.off('disconnected', this.onDisconnect);
      if (this.browser.isConnected()) {
        try {
          await bounded(this.context.close(), CLOSE_TIMEOUT_MS, 'closing the browser context');
        } catch {
          await this.pool.discard(this.browser);
        }
      }
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    }
  }

  private async keep(
    kind: 'screenshot' | 'video' | 'trace' | 'log',
    name: string,
    contentType: string,
    source: { body: Uint8Array } | { path: string },
  ): Promise<void> {
    if (!this.options.artifacts) {
      this.options.logger?.debug(`${name} not kept: this run has no artifact store`);
      return;
    }
    await this.options.artifacts.add({ kind, name, contentType, source });
  }
}

/**
 * Ends the browser side of a case that ended with `verdict`. A crash under the case overrides a
 * failure: the skill's error ("target closed") would only hide that the browser died, and the
 * case is then a system error, retried like one.
 */
export async function settleCaseBrowser<V extends { status: string }>(
  browser: CaseBrowser,
  verdict: V,
  crashVerdict: (message: string) => V,
  log: SkillLogger,
): Promise<V> {
  const crash = browser.crash;
  const settled =
    crash !== undefined && verdict.status !== 'passed'
      ? crashVerdict(`${crash} while the case ran; the next case gets a new browser`)
      : verdict;
  await browser.finish(settled.status !== 'passed', log);
  return settled;
}

/**
 * Opens the browser of a case of a browser skill. Its context comes from the params' `browser`
 * field, which browser skills declare as `browser: BrowserSettings.optional()`.
 */
export async function openCaseBrowser(
  pool: BrowserPool | undefined,
  params: unknown,
  options: Omit<CaseBrowserOptions, 'settings'>,
): Promise<CaseBrowser> {
  if (!pool) {
    throw new SkillError(
      'system',
      'this process has no browser: browser skills run on workers that serve the browser queue',
    );
  }
  const field =
    typeof params === 'object' && params !== null
      ? (params as Record<string, unknown>)['browser']
      : undefined;
  const settings = BrowserSettings.optional().safeParse(field);
  if (!settings.success) {
    const reasons = settings.error.issues.map(
      (issue) => `browser${issue.path.map((key) => `.${String(key)}`).join('')}: ${issue.message}`,
    );
    throw new SkillError(
      'system',
      `invalid browser settings (the "browser" param of a browser skill): ${reasons.join('; ')}`,
    );
  }
  return CaseBrowser.open(pool, { ...options, settings: settings.data });
}
