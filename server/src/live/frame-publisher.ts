import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LIVE_EVENTS_VERSION, type BrowserFrame } from '@webguard/shared';
import type { FrameSink } from '../engine/browser/index.js';
import type { LiveKeys } from './keys.js';

/** Frames on their way to Redis at most per process; more are dropped, never queued. */
const MAX_IN_FLIGHT = 8;

/**
 * Hands browser frames to the API nodes over pub/sub: never stored, never replayed, and only
 * while some API node has marked the run as watched with frames on.
 */
export class FramePublisher {
  private inFlight = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keys: LiveKeys,
    private readonly fps: number,
    private readonly logger: Logger,
  ) {}

  forCase(executionId: number, caseId: number, caseName: string): FrameSink {
    let count = 0;
    const watchers = this.keys.frameWatchers(executionId);
    const channel = this.keys.framesChannel(executionId);
    return {
      fps: this.fps,
      watched: async () => (await this.redis.zcount(watchers, Date.now(), '+inf')) > 0,
      frame: (frame) => {
        if (this.inFlight >= MAX_IN_FLIGHT) return;
        count++;
        const message: BrowserFrame = {
          v: LIVE_EVENTS_VERSION,
          type: 'browser.frame',
          execution_id: executionId,
          case_id: caseId,
          case_name: caseName,
          frame: count,
          time: new Date().toISOString(),
          ...frame,
        };
        this.inFlight++;
        this.redis
          .publish(channel, JSON.stringify(message))
          .catch((error: unknown) =>
            this.logger.debug({ err: error, execution_id: executionId }, 'frame not published'),
          )
          .finally(() => this.inFlight--);
      },
    };
  }
}
