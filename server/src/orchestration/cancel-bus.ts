import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Tells every worker process to abort the running cases of an execution (cancel, suite
 * timeout, fail-fast). Redis pub/sub reaches every process; a process that misses the message
 * still stops those cases, because each case checks its execution's state when it ends.
 */
export class CancelBus {
  private readonly channel: string;

  constructor(
    private readonly publisher: Redis,
    prefix: string,
  ) {
    this.channel = `${prefix}:cancel-execution`;
  }

  async publish(executionId: number): Promise<void> {
    await this.publisher.publish(this.channel, String(executionId));
  }

  /** Listens on its own connection (a subscribed connection can do nothing else). */
  async subscribe(
    subscriber: Redis,
    onCancel: (executionId: number) => void,
    logger: Logger,
  ): Promise<void> {
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const executionId = Number(message);
      if (Number.isInteger(executionId)) onCancel(executionId);
      else logger.warn({ message }, 'ignored a malformed cancel message');
    });
    await subscriber.subscribe(this.channel);
  }
}

/** The abort controllers of the cases this process is running, by execution. */
export class RunningCases {
  private readonly byExecution = new Map<number, Set<AbortController>>();

  start(executionId: number): { signal: AbortSignal; done: () => void } {
    const controller = new AbortController();
    const set = this.byExecution.get(executionId) ?? new Set();
    set.add(controller);
    this.byExecution.set(executionId, set);
    return {
      signal: controller.signal,
      done: () => {
        set.delete(controller);
        if (set.size === 0) this.byExecution.delete(executionId);
      },
    };
  }

  abort(executionId: number): number {
    const set = this.byExecution.get(executionId);
    for (const controller of set ?? []) controller.abort();
    return set?.size ?? 0;
  }
}
