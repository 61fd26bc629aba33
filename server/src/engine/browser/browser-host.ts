import { connect, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { chromium, type Browser } from 'playwright-core';
import {
  chromiumLaunch,
  firstLine,
  type BrowserPoolOptions,
  type RemoteBrowser,
} from './browser-pool.js';
import type { CaptureMode } from '@webguard/shared';
import { BrowserUnavailableError } from './find-executables.js';

/** A loopback port free right now, for Chromium's DevTools endpoint. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no loopback port');
  return address.port;
}

/**
 * Whether something accepts connections on the loopback `port`: refused at once when the
 * Chromium that listened there has died, however busy a live one is.
 */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The browser-wide DevTools WebSocket of a Chromium listening on `port`. */
async function devtoolsEndpoint(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/json/version`, {
    signal: AbortSignal.timeout(10_000),
  });
  const body: unknown = await response.json();
  const endpoint =
    typeof body === 'object' && body !== null
      ? (body as Record<string, unknown>)['webSocketDebuggerUrl']
      : undefined;
  if (typeof endpoint !== 'string' || !endpoint.startsWith('ws://127.0.0.1:')) {
    throw new Error(`port ${port} does not serve this Chromium's DevTools`);
  }
  return endpoint;
}

interface Served {
  browser: Browser;
  port: number;
  remote: RemoteBrowser;
}

/**
 * The worker's one Chromium when skills run in sandbox threads. Each thread drives it over the
 * DevTools protocol with a Playwright of its own, so a skill's calls never wait for the worker's
 * thread (queues, database, API) and a thread stopped mid-case takes only its own contexts with
 * it. Launched on first use; after a crash the next case launches a new one.
 */
export class BrowserHost {
  /** Videos and traces for cases whose params do not choose. */
  readonly video: CaptureMode;
  readonly trace: CaptureMode;
  private launching: Promise<Served> | undefined;
  private current: Browser | undefined;
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
    for (let attempt = 0; attempt < 2; attempt++) {
      const launching = (this.launching ??= this.launch());
      let served: Served;
      try {
        served = await launching;
      } catch (error) {
        if (this.launching === launching) this.launching = undefined;
        throw error;
      }
      // A thread can see Chromium die (and its case be retried) before this thread hears of it.
      if (await listening(served.port)) return served.remote;
      if (this.launching === launching) {
        this.launching = undefined;
        this.current = undefined;
        void served.browser.close().catch(() => undefined);
      }
    }
    throw new BrowserUnavailableError('Chromium exited right after it was launched');
  }

  async close(): Promise<void> {
    this.closed = true;
    const launching = this.launching;
    this.launching = undefined;
    this.current = undefined;
    const served = await launching?.catch(() => undefined);
    await served?.browser.close().catch(() => undefined);
  }

  private async launch(): Promise<Served> {
    const { logger } = this.options;
    const launch = chromiumLaunch(this.options);
    const started = performance.now();
    let browser: Browser;
    let wsEndpoint: string;
    let port: number;
    try {
      port = await freePort();
      browser = await chromium.launch({
        ...launch.options,
        args: [
          ...launch.options.args,
          `--remote-debugging-port=${port}`,
          '--remote-debugging-address=127.0.0.1',
        ],
      });
      // Another process may have taken the port between our probe and Chromium's start.
      wsEndpoint = await devtoolsEndpoint(port).catch(async (error: unknown) => {
        await browser.close().catch(() => undefined);
        throw error;
      });
    } catch (error) {
      throw new BrowserUnavailableError(
        `could not launch Chromium (${launch.info.executablePath}): ${firstLine(error)}`,
      );
    }
    this.launchCount++;
    this.current = browser;
    browser.on('disconnected', () => {
      if (this.current !== browser) return;
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
    return { browser, port, remote: { wsEndpoint, launch: launch.info } };
  }
}
