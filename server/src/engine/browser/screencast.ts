import type { CDPSession, Page } from 'playwright-core';
import type { Logger } from 'pino';

/** One JPEG frame of the page, as the screencast hands it on. */
export interface ScreencastFrame {
  /** Base64 JPEG. */
  data: string;
  width: number;
  height: number;
}

/** Where a case's live frames go; the worker publishes them only while someone watches. */
export interface FrameSink {
  /** Frames per second at most. */
  readonly fps: number;
  /** Whether anyone watches this case's run with frames on, right now. */
  watched(): Promise<boolean>;
  frame(frame: ScreencastFrame): void;
}

/** How often the watch flag is checked while a case runs. */
const WATCH_POLL_MS = 1_000;
/**
 * A screencast can go quiet for good when the page moves to another renderer (a navigation);
 * one that sent nothing for this long is restarted, which also sends a still page's picture.
 */
const QUIET_RESTART_MS = 3_000;
const JPEG_QUALITY = 60;
const MAX_SIZE = { width: 1280, height: 800 };

/** Width and height from a JPEG's start-of-frame marker, without decoding the image. */
export function jpegSize(jpeg: Buffer): { width: number; height: number } | undefined {
  let offset = 2;
  while (offset + 9 < jpeg.length) {
    if (jpeg[offset] !== 0xff) return undefined;
    const marker = jpeg[offset + 1]!;
    const length = jpeg.readUInt16BE(offset + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker))
      return { height: jpeg.readUInt16BE(offset + 5), width: jpeg.readUInt16BE(offset + 7) };
    offset += 2 + length;
  }
  return undefined;
}

/**
 * Streams a case's page over the Chrome DevTools screencast while someone watches, and not at
 * all otherwise. Chromium sends the next frame only after the last one is acknowledged, so
 * holding the acknowledgement until the frame interval has passed caps the rate at the source
 * instead of encoding frames only to drop them.
 */
export class Screencast {
  private session: CDPSession | undefined;
  private casting = false;
  private stopped = false;
  private readonly poll: NodeJS.Timeout;
  private ackTimer: NodeJS.Timeout | undefined;
  private lastFrameAt = 0;

  constructor(
    private readonly page: Page,
    private readonly sink: FrameSink,
    private readonly logger: Logger | undefined,
  ) {
    this.poll = setInterval(() => void this.check(), WATCH_POLL_MS);
    this.poll.unref();
    void this.check();
  }

  /** Stops casting; the case's page is about to close. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    await this.pause();
    await this.session?.detach().catch(() => undefined);
  }

  private async check(): Promise<void> {
    try {
      const watched = await this.sink.watched();
      if (this.stopped) return;
      if (watched && !this.casting) await this.start();
      else if (!watched && this.casting) await this.pause();
      else if (watched && Date.now() - this.lastFrameAt > QUIET_RESTART_MS) await this.restart();
    } catch (error) {
      this.logger?.debug({ err: error }, 'live frames: watch check failed');
    }
  }

  private async restart(): Promise<void> {
    await this.pause();
    await this.start();
  }

  private async start(): Promise<void> {
    this.casting = true;
    this.lastFrameAt = Date.now();
    if (!this.session) {
      this.session = await this.page.context().newCDPSession(this.page);
      this.session.on('Page.screencastFrame', (event) => this.onFrame(event));
    }
    await this.session.send('Page.startScreencast', {
      format: 'jpeg',
      quality: JPEG_QUALITY,
      maxWidth: MAX_SIZE.width,
      maxHeight: MAX_SIZE.height,
    });
  }

  private async pause(): Promise<void> {
    if (!this.casting) return;
    this.casting = false;
    clearTimeout(this.ackTimer);
    await this.session?.send('Page.stopScreencast').catch(() => undefined);
  }

  private onFrame(event: { data: string; sessionId: number }): void {
    if (!this.casting || this.stopped) return;
    const now = Date.now();
    this.lastFrameAt = now;
    // The frame size sits in the first few hundred bytes; no need to decode the whole image.
    const head = Buffer.from(event.data.slice(0, 8192), 'base64');
    const size = jpegSize(head) ?? { width: 1, height: 1 };
    this.sink.frame({ data: event.data, ...size });
    const wait = Math.max(0, 1000 / this.sink.fps - (Date.now() - now));
    this.ackTimer = setTimeout(() => {
      if (!this.casting || this.stopped || !this.session) return;
      this.session
        .send('Page.screencastFrameAck', { sessionId: event.sessionId })
        .catch(() => undefined);
    }, wait);
  }
}
