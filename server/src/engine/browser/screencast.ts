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
/** A frame asked for and not sent within this long is asked for again. */
const STALLED_FRAME_MS = 3_000;
/** Each frame costs Chromium a read-back and a JPEG encode; small frames keep that cheap. */
const JPEG_QUALITY = 50;
const MAX_SIZE = { width: 800, height: 600 };

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
 * all otherwise. A continuous screencast makes Chromium encode and ship every repaint (tens of
 * JPEGs a second on a busy page), and holding back acknowledgements to slow it down stalls the
 * page's rendering and the animation-frame checks Playwright's actions wait on. So the cast is
 * started for one frame at a time: start, take the first frame, acknowledge it, stop, and start
 * again when the next one is due, `fps` times a second at most.
 */
export class Screencast {
  private session: CDPSession | undefined;
  private casting = false;
  private stopped = false;
  private readonly poll: NodeJS.Timeout;
  private next: NodeJS.Timeout | undefined;
  /** When the frame being waited for was asked for; undefined when none is. */
  private askedAt: number | undefined;

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
      if (watched && !this.casting) {
        this.casting = true;
        await this.ask();
      } else if (!watched && this.casting) await this.pause();
      else if (this.askedAt !== undefined && Date.now() - this.askedAt > STALLED_FRAME_MS) {
        // The page moved to another renderer while a frame was asked for: ask again.
        await this.session?.send('Page.stopScreencast').catch(() => undefined);
        await this.ask();
      }
    } catch (error) {
      this.logger?.debug({ err: error }, 'live frames: watch check failed');
    }
  }

  /** Asks Chromium for the page's next frame. */
  private async ask(): Promise<void> {
    if (!this.casting || this.stopped) return;
    if (!this.session) {
      this.session = await this.page.context().newCDPSession(this.page);
      this.session.on('Page.screencastFrame', (event) => void this.onFrame(event));
    }
    this.askedAt = Date.now();
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
    this.askedAt = undefined;
    clearTimeout(this.next);
    await this.session?.send('Page.stopScreencast').catch(() => undefined);
  }

  private async onFrame(event: { data: string; sessionId: number }): Promise<void> {
    const session = this.session;
    if (!session) return;
    await session.send('Page.screencastFrameAck', { sessionId: event.sessionId }).catch(() => {});
    if (this.askedAt === undefined || !this.casting || this.stopped) return;
    const askedAt = this.askedAt;
    this.askedAt = undefined;
    // The frame size sits in the first few hundred bytes; no need to decode the whole image.
    const head = Buffer.from(event.data.slice(0, 8192), 'base64');
    const size = jpegSize(head) ?? { width: 1, height: 1 };
    this.sink.frame({ data: event.data, ...size });
    await session.send('Page.stopScreencast').catch(() => undefined);
    const wait = Math.max(0, 1000 / this.sink.fps - (Date.now() - askedAt));
    this.next = setTimeout(() => {
      this.ask().catch((error: unknown) =>
        this.logger?.debug({ err: error }, 'live frames: next frame not asked for'),
      );
    }, wait);
  }
}
