import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LIVE_EVENTS_VERSION, RunEvent, type RunEventDraft } from '@webguard/shared';
import type { LiveKeys } from './keys.js';

/** Where the orchestration and the workers hand run events; it never throws. */
export interface RunEventSink {
  /**
   * Appends the event to its run's stream and resolves with its `seq`, or with undefined when it
   * was dropped (Redis unreachable, too much waiting). Callers that need causal order (queued
   * before started) await it; everyone else fires and forgets.
   */
  publish(draft: RunEventDraft): Promise<number | undefined>;
}

/**
 * One atomic step per event: number it, add it to the bounded stream under id `<seq>-0`, keep
 * the run's keys alive, and tell the API nodes. Because the numbering and the append happen in
 * one script, seqs have no gaps and the stream holds them in order.
 */
const APPEND_SCRIPT = `
local seq = redis.call('INCR', KEYS[1])
local event = '{"seq":' .. seq .. ',' .. string.sub(ARGV[1], 2)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'e', event)
local ttl = tonumber(ARGV[3])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('PUBLISH', ARGV[4], event)
if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[5], event) end
return seq
`;

type AppendCommand = (
  seqKey: string,
  streamKey: string,
  event: string,
  maxLen: number,
  ttlSeconds: number,
  channel: string,
  executionsChannel: string,
) => Promise<number>;

/** Keys of a run that never finishes (its coordinator died) still go away after a week. */
const OPEN_RUN_TTL_SECONDS = 7 * 86_400;
/** Events waiting for Redis at most; past it new ones are dropped, so a case never waits. */
const DEFAULT_MAX_PENDING = 10_000;
/**
 * A caller that awaits an event waits this long at most: while Redis is away the event stays
 * queued on the connection and goes out, in order, when it is back.
 */
const MAX_WAIT_MS = 500;

export interface RunEventPublisherOptions {
  /** Events kept per run (approximate trim). */
  maxLen: number;
  /** Seconds a finished run's events stay replayable. */
  ttlSeconds: number;
  logger: Logger;
  /** Events in flight to Redis at most. Default 10000. */
  maxPending?: number;
}

export class RunEventPublisher implements RunEventSink {
  private readonly append: AppendCommand;
  private pending = 0;
  private dropped = 0;
  private lastDropWarning = 0;

  constructor(
    redis: Redis,
    private readonly keys: LiveKeys,
    private readonly options: RunEventPublisherOptions,
  ) {
    redis.defineCommand('webguardLiveAppend', { numberOfKeys: 2, lua: APPEND_SCRIPT });
    const command = (redis as unknown as { webguardLiveAppend: AppendCommand }).webguardLiveAppend;
    this.append = command.bind(redis);
  }

  publish(draft: RunEventDraft): Promise<number | undefined> {
    const { logger } = this.options;
    if (this.pending >= (this.options.maxPending ?? DEFAULT_MAX_PENDING)) {
      this.drop();
      return Promise.resolve(undefined);
    }
    const event = {
      ...draft,
      v: LIVE_EVENTS_VERSION,
      time: draft.time ?? new Date().toISOString(),
    };
    // Checked here, where a bug can be traced, rather than in every client.
    const checked = RunEvent.safeParse({ ...event, seq: 1 });
    if (!checked.success) {
      logger.error(
        { type: draft.type, execution_id: draft.execution_id, issues: checked.error.issues },
        'dropped a malformed live event',
      );
      return Promise.resolve(undefined);
    }
    const finished = draft.type === 'execution.finished';
    this.pending++;
    const appended = this.append(
      this.keys.seq(draft.execution_id),
      this.keys.stream(draft.execution_id),
      JSON.stringify(event),
      this.options.maxLen,
      finished ? this.options.ttlSeconds : OPEN_RUN_TTL_SECONDS,
      this.keys.eventsChannel(draft.execution_id),
      draft.type.startsWith('execution.') ? this.keys.executionsChannel : '',
    )
      .then(
        (seq) => Number(seq),
        (error: unknown) => {
          logger.warn(
            { err: error, type: draft.type, execution_id: draft.execution_id },
            'could not publish a live event',
          );
          return undefined;
        },
      )
      .finally(() => {
        this.pending--;
      });
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), MAX_WAIT_MS);
      timer.unref();
    });
    return Promise.race([appended, gaveUp]).finally(() => clearTimeout(timer));
  }

  /** Counts drops and says so at most every 10 s, so a Redis outage does not flood the log. */
  private drop(): void {
    this.dropped++;
    const now = Date.now();
    if (now - this.lastDropWarning < 10_000) return;
    this.lastDropWarning = now;
    this.options.logger.warn(
      { dropped: this.dropped },
      'live events dropped: Redis is not keeping up; runs go on without them',
    );
  }
}
