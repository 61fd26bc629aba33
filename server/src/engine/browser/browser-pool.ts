import { performance } from 'node:perf_hooks';
import { chromium, type Browser } from 'playwright-core';
import type { Logger } from 'pino';
import type { CaptureMode, SkillContext } from '@webguard/shared';
import { BrowserUnavailableError, findChromium } from './find-executables.js';

/**
 * Flags for a headless Chromium on a server: often root in a container (no user namespaces for
 * the sandbox, a 64 MB /dev/shm, no GPU) and offline but for the sites under test (nothing that
 * phones home, updates itself or waits on first-run UI).
 */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-breakpad',
  '--no-first-run',
  '--no-default-browser-check',
  '--mute-audio',
  '--password-store=basic',
];

export interface BrowserPoolOptions {
  /** The Chromium to launch; unset means found on first use (see `findChromium`). */
  chromiumPath?: string;
  /** Folders to look for Chromium in (PATH syntax). */
  searchPath?: string;
  /** Default true; the desktop's local runner shows the browser instead. */
  headless?: boolean;
  /** Videos for cases whose params do not choose. Default `off`. */
  video?: CaptureMode;
  /** Playwright traces for cases whose params do not choose. Default `off`. */
  trace?: CaptureMode;
  /** Default 60 000 ms. */
  launchTimeoutMs?: number;
  logger?: Logger;
  /**
   * Drive this Chromium, launched by another thread (see `BrowserHost`), over the DevTools
   * protocol instead of launching one: a skill's sandbox thread uses the worker's browser this way.
   */
  remote?: () => RemoteBrowser;
}

export type LaunchInfo = NonNullable<SkillContext['browserLaunch']>;

/** A Chromium served over the DevTools protocol, and how it was launched. */
export interface RemoteBrowser {
  /** Its browser-wide DevTools WebSocket. */
  wsEndpoint: string;
  launch: LaunchInfo;
}

/** Where Chromium is and how to launch it, for an in-process browser or a served one. */
export function chromiumLaunch(options: BrowserPoolOptions) {
  // Found at launch, not at start: a worker without Chromium still serves its other queues.
  const found = findChromium({
    override: options.chromiumPath,
    searchPath: options.searchPath ?? '',
  });
  const info: LaunchInfo = {
    executablePath: found.path,
    args: CHROMIUM_FLAGS,
    headless: options.headless ?? true,
  };
  return {
    source: found.source,
    info,
    options: {
      ...info,
      args: [...CHROMIUM_FLAGS],
      timeout: options.launchTimeoutMs ?? 60_000,
      // The runtime owns shutdown and closes the pool in its turn.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    },
  };
}

export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n').find((line) => line.trim().length > 0) ?? message;
}

/**
 * One Chromium per worker process, shared by its browser cases (each gets its own context).
 * Launched on first use; after a crash or disconnect the next case launches a new one.
 */
export class BrowserPool {
  readonly video: CaptureMode;
  readonly trace: CaptureMode;
  private launching: Promise<Browser> | undefined;
  private current: Browser | undefined;
  private launchCount = 0;
  private closed = false;
  private launchedWith: LaunchInfo | undefined;

  constructor(private readonly options: BrowserPoolOptions) {
    this.video = options.video ?? 'off';
    this.trace = options.trace ?? 'off';
  }

  /** How many times Chromium was launched: more than once means it was replaced. */
  get launches(): number {
    return this.launchCount;
  }

  /** How the running Chromium was launched, for tools that launch the same build themselves. */
  get launchInfo(): LaunchInfo | undefined {
    return this.launchedWith;
  }

  /** Contexts open right now: one per running case, none when idle. */
  get openContexts(): number {
    if (!this.current?.isConnected()) return 0;
    // Over the DevTools protocol the browser's default context is listed too; cases never use it.
    return this.current.contexts().length - (this.options.remote ? 1 : 0);
  }

  /** The running browser, launched (again) when there is none. */
  async acquire(): Promise<Browser> {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.closed) {
        throw new BrowserUnavailableError(
          'the browser pool is closed: the worker is shutting down',
        );
      }
      const launching = (this.launching ??= this.launch());
      try {
        const browser = await launching;
        if (browser.isConnected()) return browser;
      } catch (error) {
        if (this.launching === launching) this.launching = undefined;
        throw error;
      }
      if (this.launching === launching) this.launching = undefined;
    }
    throw new BrowserUnavailableError('Chromium disconnected right after it was launched');
  }

  /** Closes a browser that stopped answering, so the next case gets a fresh one. */
  async discard(browser: Browser): Promise<void> {
    if (this.current === browser) {
      this.current = undefined;
      this.launching = undefined;
    }
    this.options.logger?.warn('Chromium stopped answering; closing it');
    await browser.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    const launching = this.launching;
    this.launching = undefined;
    this.current = undefined;
    const browser = await launching?.catch(() => undefined);
    await browser?.close().catch(() => undefined);
  }

  private async launch(): Promise<Browser> {
    const { logger } = this.options;
    const started = performance.now();
    let browser: Browser;
    let launchedWith: LaunchInfo;
    let source: string;
    const remote = this.options.remote?.();
    if (remote) {
      try {
        browser = await chromium.connectOverCDP(remote.wsEndpoint, {
          timeout: this.options.launchTimeoutMs ?? 60_000,
          // Same machine: traces and videos are files Playwright can read where Chromium wrote them.
          isLocal: true,
          // The default context holds the other threads' pages: leave them as they are.
          noDefaults: true,
        });
      } catch (error) {
        throw new BrowserUnavailableError(
          `could not connect to the worker's Chromium: ${firstLine(error)}`,
        );
      }
      launchedWith = remote.launch;
      source = 'worker';
    } else {
      const launch = chromiumLaunch(this.options);
      try {
        browser = await chromium.launch(launch.options);
      } catch (error) {
        throw new BrowserUnavailableError(
          `could not launch Chromium (${launch.info.executablePath}): ${firstLine(error)}`,
        );
      }
      launchedWith = launch.info;
      source = launch.source;
    }
    this.launchCount++;
    this.current = browser;
    this.launchedWith = launchedWith;
    browser.on('disconnected', () => {
      if (this.current !== browser) return;
      this.current = undefined;
      this.launching = undefined;
      if (!this.closed)
        logger?.warn('Chromium crashed or disconnected; the next case relaunches it');
    });
    logger?.[remote ? 'debug' : 'info'](
      {
        version: browser.version(),
        executable: launchedWith.executablePath,
        source,
        launch_ms: Math.round(performance.now() - started),
      },
      remote ? 'connected to Chromium' : 'Chromium launched',
    );
    return browser;
  }
}
