import { performance } from 'node:perf_hooks';
import { chromium, type BrowserServer } from 'playwright-core';
import {
  chromiumLaunch,
  firstLine,
  type BrowserPoolOptions,
  type RemoteBrowser,
} from './browser-pool.js';
import type { CaptureMode } from '@webguard/shared';
import { BrowserUnavailableError } from './find-executables.js';

/**
 * The worker's one Chromium when skills run in sandbox threads: launched as a Playwright server
 * that each thread connects to, so a thread that is stopped mid-case takes only its own
 * contexts with it. Launched on first use; after a crash the next case launches a new one.
 */
export class BrowserHost {
  /** Videos and traces for cases whose params do not choose. */
  readonly video: CaptureMode;
  readonly trace: CaptureMode;
  private launching: Promise<{ server: BrowserServer; remote: RemoteBrowser }> | undefined;
  private current: BrowserServer | undefined;
  private launchCount = 0;
  private closed = false;

  constructor(private readonly options: BrowserPoolOptions) {
    this.video = options.video ?? 'off';
    this.trace = options.trace ?? 'off';
  }

  /** How many times Chromium was launched: more than once means it was replaced. */
  get launches(): number {
    return this.launchCount;
  }

  /** The running Chromium's endpoint, launched (again) when there is none. */
  async serve(): Promise<RemoteBrowser> {
    if (this.closed) {
      throw new BrowserUnavailableError('the browser pool is closed: the worker is shutting down');
    }
    const launching = (this.launching ??= this.launch());
    try {
      return (await launching).remote;
    } catch (error) {
      if (this.launching === launching) this.launching = undefined;
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const launching = this.launching;
    this.launching = undefined;
    this.current = undefined;
    const served = await launching?.catch(() => undefined);
    await served?.server.close().catch(() => undefined);
  }

  private async launch(): Promise<{ server: BrowserServer; remote: RemoteBrowser }> {
    const { logger } = this.options;
    const launch = chromiumLaunch(this.options);
    const started = performance.now();
    let server: BrowserServer;
    try {
      server = await chromium.launchServer({ ...launch.options, host: '127.0.0.1' });
    } catch (error) {
      throw new BrowserUnavailableError(
        `could not launch Chromium (${launch.info.executablePath}): ${firstLine(error)}`,
      );
    }
    this.launchCount++;
    this.current = server;
    server.on('close', () => {
      if (this.current !== server) return;
      this.current = undefined;
      this.launching = undefined;
      if (!this.closed) logger?.warn('Chromium crashed or exited; the next case relaunches it');
    });
    logger?.info(
      {
        executable: launch.info.executablePath,
        source: launch.source,
        launch_ms: Math.round(performance.now() - started),
      },
      'Chromium launched',
    );
    return { server, remote: { wsEndpoint: server.wsEndpoint(), launch: launch.info } };
  }
}
