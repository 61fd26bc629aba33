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
 * One atomic step per batch of events, each event numbered, added to its run's bounded stream
 * under id `<seq>-0`, and told to the API nodes; the runs' keys are kept alive once per batch.
 * Because the numbering and the append happen in one script, seqs have no gaps and the stream
 * holds them in order. KEYS holds each event's seq and stream keys; ARGV the stream length, then
 * per event its JSON (without seq), TTL, channel and the executions channel ('' for none).
 */
const APPEND_SCRIPT = `
local maxLen = ARGV[1]
local seqs = {}
local ttls = {}
for i = 1, #KEYS / 2 do
  local seqKey, streamKey = KEYS[2 * i - 1], KEYS[2 * i]
  local arg = 2 + (i - 1) * 4
  local seq = redis.call('INCR', seqKey)
  local event = '{"seq":' .. seq .. ',' .. string.sub(ARGV[arg], 2)
  redis.call('XADD', streamKey, 'MAXLEN', '~', maxLen, seq .. '-0', 'e', event)
  ttls[seqKey] = ARGV[arg + 1]
  ttls[streamKey] = ARGV[arg + 1]
  redis.call('PUBLISH', ARGV[arg + 2], event)
  if ARGV[arg + 3] ~= '' then redis.call('PUBLISH', ARGV[arg + 3], event) end
  seqs[i] = seq
end
for key, ttl in pairs(ttls) do redis.call('EXPIRE', key, ttl) end
return seqs
`;

type AppendCommand = (
  numberOfKeys: number,
  ...keysThenArgs: (string | number)[]
) => Promise<number[]>;

/** An event waiting for its batch to go out. */
interface Queued {
  keys: [seqKey: string, streamKey: string];
  args: [event: string, ttlSeconds: number, channel: string, executionsChannel: string];
  draft: RunEventDraft;
  resolve: (seq: number | undefined) => void;
}

/** Keys of a run that never finishes (its coordinator died) still go away after a week. */
const OPEN_RUN_TTL_SECONDS = 7 * 86_400;
/** Events waiting for Redis at most; past it new ones are dropped, so a case never waits. */
const DEFAULT_MAX_PENDING = 10_000;
/**
 * A caller that awaits an event waits this long at most: while Redis is away the event stays
 * queued on the connection and goes out, in order, when it is back.
 */
const MAX_WAIT_MS = 500;
/** Events per script call at most, so one call never holds Redis for long. */
const MAX_BATCH = 200;

export interface RunEventPublisherOptions {
  /** Events kept per run (approximate trim). */
  maxLen: number;
  /** Seconds a finished run's events stay replayable. */
  ttlSeconds: number;
  logger: Logger;
  /** Events in flight to Redis at most. Default 10000. */
  maxPending?: number;
}

/**
 * Publishes run events to Redis. Events published in the same turn of the event loop (a case's
 * steps, the cases a worker finishes together) go out as one script call, in publish order.
 */
export class RunEventPublisher implements RunEventSink {
  private readonly append: AppendCommand;
  private queued: Queued[] = [];
  private flushing = false;
  private pending = 0;
  private dropped = 0;
  private lastDropWarning = 0;

  constructor(
    redis: Redis,
    private readonly keys: LiveKeys,
    private readonly options: RunEventPublisherOptions,
  ) {
    redis.defineCommand('webguardLiveAppendAll', { lua: APPEND_SCRIPT });
    const command = (redis as unknown as { webguardLiveAppendAll: AppendCommand })
      .webguardLiveAppendAll;
    this.append = command.bind(redis);
  }

  publish(draft: RunEventDraft): Promise<number | undefined> {
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
      this.options.logger.error(
        { type: draft.type, execution_id: draft.execution_id, issues: checked.error.issues },
        'dropped a malformed live event',
      );
      return Promise.resolve(undefined);
    }
    const finished = draft.type === 'execution.finished';
    this.pending++;
    return new Promise((resolve) => {
      this.queued.push({
        keys: [this.keys.seq(draft.execution_id), this.keys.stream(draft.execution_id)],
        args: [
          JSON.stringify(event),
          finished ? this.options.ttlSeconds : OPEN_RUN_TTL_SECONDS,
          this.keys.eventsChannel(draft.execution_id),
          draft.type.startsWith('execution.') ? this.keys.executionsChannel : '',
        ],
        draft,
        resolve,
      });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends what was published this turn, in batches, in order. */
  private flush(): void {
    this.flushing = false;
    const queued = this.queued;
    this.queued = [];
    for (let from = 0; from < queued.length; from += MAX_BATCH) {
      this.send(queued.slice(from, from + MAX_BATCH));
    }
  }

  private send(batch: Queued[]): void {
    const appended = this.append(
      batch.length * 2,
      ...batch.flatMap((event) => event.keys),
      this.options.maxLen,
      ...batch.flatMap((event) => event.args),
    )
      .then(
        (seqs) => seqs.map(Number),
        (error: unknown) => {
          const { type, execution_id } = batch[0]!.draft;
          this.options.logger.warn(
            { err: error, events: batch.length, type, execution_id },
            'could not publish live events',
          );
          return [];
        },
      )
      .finally(() => {
        this.pending -= batch.length;
      });
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<number[]>((resolve) => {
      timer = setTimeout(() => resolve([]), MAX_WAIT_MS);
      timer.unref();
    });
    void Promise.race([appended, gaveUp]).then((seqs) => {
      clearTimeout(timer);
      batch.forEach((event, index) => event.resolve(seqs[index]));
    });
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
