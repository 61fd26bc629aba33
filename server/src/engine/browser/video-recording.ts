import { writeFile } from 'node:fs/promises';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';

/** Frames per second of case videos: enough to follow a flow, cheap to encode. */
const FRAME_RATE = 10;
/** Largest video frame; bigger viewports are scaled down to fit. */
const MAX_FRAME = { width: 1280, height: 720 };

/**
 * A video of one page, encoded by Chromium itself (CDP `Page.startScreenRecording`, MP4), so
 * no ffmpeg or other download is needed. Chromium builds older than this API cannot record.
 */
export class VideoRecording {
  private constructor(private readonly session: CDPSession) {}

  /** Starts recording `page`; returns why not when this Chromium cannot record video. */
  static async start(
    context: BrowserContext,
    page: Page,
    viewport: { width: number; height: number },
  ): Promise<VideoRecording | { unavailable: string }> {
    const session = await context.newCDPSession(page);
    const scale = Math.min(1, MAX_FRAME.width / viewport.width, MAX_FRAME.height / viewport.height);
    try {
      await session.send('Page.startScreenRecording', {
        frameRate: FRAME_RATE,
        maxWidth: Math.round(viewport.width * scale),
        maxHeight: Math.round(viewport.height * scale),
      });
      return new VideoRecording(session);
    } catch (error) {
      await session.detach().catch(() => undefined);
      const reason = error instanceof Error ? error.message : String(error);
      return {
        unavailable: `this Chromium cannot record video (Page.startScreenRecording: ${reason}); Chromium 150 or newer can`,
      };
    }
  }

  /** Stops and writes the MP4 to `file`; false when Chromium produced nothing. */
  async stopTo(file: string): Promise<boolean> {
    try {
      const { stream } = await this.session.send('Page.stopScreenRecording');
      const chunks: Buffer[] = [];
      for (;;) {
        const chunk = await this.session.send('IO.read', { handle: stream, size: 1024 * 1024 });
        chunks.push(Buffer.from(chunk.data, chunk.base64Encoded ? 'base64' : 'utf8'));
        if (chunk.eof) break;
      }
      await this.session.send('IO.close', { handle: stream });
      const video = Buffer.concat(chunks);
      if (video.length === 0) return false;
      await writeFile(file, video);
      return true;
    } finally {
      await this.session.detach().catch(() => undefined);
    }
  }

  /** Stops without keeping anything. */
  async discard(): Promise<void> {
    try {
      const { stream } = await this.session.send('Page.stopScreenRecording');
      await this.session.send('IO.close', { handle: stream });
    } finally {
      await this.session.detach().catch(() => undefined);
    }
  }
}
