import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import {
  BrowserFrame,
  type LiveAck,
  type LiveClientToServerEvents,
  type LiveServerToClientEvents,
  type RunEvent,
} from '@webguard/shared';
import type { LiveKeys } from './keys.js';
import { readRunEvents } from './run-event-reader.js';

export type LiveSocket = Socket<LiveClientToServerEvents, LiveServerToClientEvents>;

/** Events a client may leave unread before it is disconnected (it resumes from its last seq). */
const MAX_UNREAD = 20_000;
/** How long a node's frame watch lasts without a refresh. */
const FRAME_WATCH_MS = 15_000;
const FRAME_REFRESH_MS = 5_000;

export const framesRoom = (executionId: number) => `frames:${executionId}`;

/** One client watching one run. */
interface Watch {
  socket: LiveSocket;
  /** The last seq this client has been sent. */
  sentUpTo: number;
  /** Live events wait here while the client is replaying from the stream. */
  buffer: RunEvent[] | undefined;
  frames: boolean;
}

/** What this node relays for one run: its watchers, and the pub/sub channels it listens on. */
interface Feed {
  watches: Map<string, Watch>;
  listening: Promise<void>;
  frameWatchers: number;
}

export interface RunFeedsOptions {
  /** Subscribed connection for the run channels (it can do nothing else). */
  subscriber: Redis;
  /** Plain connection for stream reads and frame watch flags. */
  redis: Redis;
  keys: LiveKeys;
  nodeId: string;
  /** Sends a frame to the run's frame room on this node, dropped for clients that are behind. */
  relayFrame: (frame: BrowserFrame) => void;
  logger: Logger;
}

/**
 * Relays each run's events to the clients of this node that watch it: first what the stream
 * already holds from the client's `from_seq`, then live events from pub/sub, with no gap and no
 * duplicate. Each watch remembers the last seq it sent; an event that skips ahead (a pub/sub
 * message lost over a reconnect) makes the watch read the missing ones from the stream.
 */
export class RunFeeds {
  private readonly feeds = new Map<number, Feed>();
  private readonly channels = new Map<string, { executionId: number; kind: 'events' | 'frames' }>();
  private readonly unread = new WeakMap<LiveSocket, number>();
  private readonly refresh: NodeJS.Timeout;

  constructor(private readonly options: RunFeedsOptions) {
    options.subscriber.on('message', (channel: string, message: string) => {
      const target = this.channels.get(channel);
      if (!target) return;
      if (target.kind === 'events') this.onEvent(target.executionId, message);
      else this.onFrame(message);
    });
    // After a reconnect, whatever was published meanwhile is read from the streams.
    options.subscriber.on('ready', () => {
      for (const [executionId, feed] of this.feeds)
        for (const watch of feed.watches.values()) this.resync(executionId, watch);
    });
    this.refresh = setInterval(() => void this.refreshFrameWatches(), FRAME_REFRESH_MS);
    this.refresh.unref();
  }

  /** Starts (or restarts from `fromSeq`) a client's watch of a run; acks after the replay. */
  async watch(
    socket: LiveSocket,
    executionId: number,
    fromSeq: number,
    frames: boolean,
  ): Promise<LiveAck> {
    this.unwatch(socket, executionId);
    const feed = this.feed(executionId);
    const watch: Watch = { socket, sentUpTo: fromSeq - 1, buffer: [], frames };
    feed.watches.set(socket.id, watch);
    if (frames) {
      feed.frameWatchers++;
      await socket.join(framesRoom(executionId));
      if (feed.frameWatchers === 1) await this.markFrameWatch(executionId);
    }
    await feed.listening;
    await this.catchUp(executionId, watch);
    return { ok: true, last_seq: watch.sentUpTo };
  }

  unwatch(socket: LiveSocket, executionId: number): boolean {
    const feed = this.feeds.get(executionId);
    const watch = feed?.watches.get(socket.id);
    if (!feed || !watch) return false;
    feed.watches.delete(socket.id);
    if (watch.frames) {
      feed.frameWatchers--;
      void socket.leave(framesRoom(executionId));
      if (feed.frameWatchers === 0) void this.unmarkFrameWatch(executionId);
    }
    if (feed.watches.size === 0) this.dropFeed(executionId);
    return true;
  }

  /** A client went away: end all its watches. */
  forget(socket: LiveSocket): void {
    for (const [executionId, feed] of [...this.feeds])
      if (feed.watches.has(socket.id)) this.unwatch(socket, executionId);
  }

  async close(): Promise<void> {
    clearInterval(this.refresh);
    const watched = [...this.feeds.entries()].filter(([, feed]) => feed.frameWatchers > 0);
    this.feeds.clear();
    await Promise.all(watched.map(([executionId]) => this.unmarkFrameWatch(executionId)));
  }

  private feed(executionId: number): Feed {
    let feed = this.feeds.get(executionId);
    if (feed) return feed;
    const { keys, subscriber } = this.options;
    const events = keys.eventsChannel(executionId);
    const frames = keys.framesChannel(executionId);
    this.channels.set(events, { executionId, kind: 'events' });
    this.channels.set(frames, { executionId, kind: 'frames' });
    feed = {
      watches: new Map(),
      frameWatchers: 0,
      listening: subscriber.subscribe(events, frames).then(() => undefined),
    };
    this.feeds.set(executionId, feed);
    return feed;
  }

  private dropFeed(executionId: number): void {
    const { keys, subscriber, logger } = this.options;
    this.feeds.delete(executionId);
    const channels = [keys.eventsChannel(executionId), keys.framesChannel(executionId)];
    for (const channel of channels) this.channels.delete(channel);
    subscriber
      .unsubscribe(...channels)
      .catch((error: unknown) =>
        logger.debug({ err: error, execution_id: executionId }, 'unsubscribe failed'),
      );
  }

  private onEvent(executionId: number, message: string): void {
    const feed = this.feeds.get(executionId);
    if (!feed) return;
    const event = JSON.parse(message) as RunEvent;
    for (const watch of feed.watches.values()) {
      if (watch.buffer) watch.buffer.push(event);
      else if (event.seq === watch.sentUpTo + 1) this.send(watch, event);
      else if (event.seq > watch.sentUpTo + 1) {
        watch.buffer = [event];
        this.resync(executionId, watch);
      }
    }
  }

  private onFrame(message: string): void {
    const parsed = BrowserFrame.safeParse(JSON.parse(message));
    if (parsed.success) this.options.relayFrame(parsed.data);
    else this.options.logger.warn({ issues: parsed.error.issues }, 'ignored a malformed frame');
  }

  private resync(executionId: number, watch: Watch): void {
    this.catchUp(executionId, watch).catch((error: unknown) => {
      this.options.logger.warn(
        { err: error, execution_id: executionId },
        'could not replay live events; the client is disconnected to resume later',
      );
      watch.socket.disconnect(true);
    });
  }

  /**
   * Sends what the stream holds after `sentUpTo`, then what arrived live meanwhile, then goes
   * live. The step from the buffer to live is synchronous, so no event slips between them.
   */
  private async catchUp(executionId: number, watch: Watch): Promise<void> {
    watch.buffer ??= [];
    for (let round = 0; ; round++) {
      const stored = await readRunEvents(
        this.options.redis,
        this.options.keys,
        executionId,
        watch.sentUpTo + 1,
      );
      if (this.feeds.get(executionId)?.watches.get(watch.socket.id) !== watch) return;
      // The stream is the record: trimmed entries are skipped rather than waited for.
      for (const event of stored) if (event.seq > watch.sentUpTo) this.send(watch, event);
      const buffered = watch.buffer.sort((a, b) => a.seq - b.seq);
      const next = buffered.find((event) => event.seq > watch.sentUpTo);
      // A buffered event beyond the next one means one was lost on the way: read again.
      if (next && next.seq !== watch.sentUpTo + 1 && round < 2) continue;
      for (const event of buffered) if (event.seq > watch.sentUpTo) this.send(watch, event);
      watch.buffer = undefined;
      return;
    }
  }

  private send(watch: Watch, event: RunEvent): void {
    const { socket } = watch;
    watch.sentUpTo = event.seq;
    const unread = (this.unread.get(socket) ?? 0) + 1;
    if (unread === 1) socket.conn.once('drain', () => this.unread.delete(socket));
    this.unread.set(socket, unread);
    if (unread > MAX_UNREAD) {
      this.options.logger.warn(
        { socket: socket.id, unread },
        'a live client is not reading; disconnected so it resumes from its last seq',
      );
      socket.disconnect(true);
      return;
    }
    socket.emit('run:event', event);
  }

  private async markFrameWatch(executionId: number): Promise<void> {
    const { redis, keys, nodeId } = this.options;
    const key = keys.frameWatchers(executionId);
    await redis
      .multi()
      .zadd(key, Date.now() + FRAME_WATCH_MS, nodeId)
      .pexpire(key, FRAME_WATCH_MS * 2)
      .exec();
  }

  private async unmarkFrameWatch(executionId: number): Promise<void> {
    const { redis, keys, nodeId, logger } = this.options;
    try {
      await redis.zrem(keys.frameWatchers(executionId), nodeId);
    } catch (error) {
      logger.debug({ err: error, execution_id: executionId }, 'frame watch not cleared');
    }
  }

  private async refreshFrameWatches(): Promise<void> {
    for (const [executionId, feed] of this.feeds) {
      if (feed.frameWatchers === 0) continue;
      try {
        await this.markFrameWatch(executionId);
      } catch (error) {
        this.options.logger.debug(
          { err: error, execution_id: executionId },
          'frame watch not refreshed',
        );
      }
    }
  }
}
