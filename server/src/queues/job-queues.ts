import { Queue, type ConnectionOptions } from 'bullmq';
import type { z } from 'zod';
import { JOB_CATALOG, QUEUE_NAMES, type JobName, type QueueName } from './job-catalog.js';

export type JobPayload<Name extends JobName> = z.infer<(typeof JOB_CATALOG)[Name]['schema']>;

/** The producer side: one BullMQ Queue per queue name, and a typed `enqueue`. */
export class JobQueues {
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    private readonly connection: ConnectionOptions,
    readonly prefix: string,
  ) {}

  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      // Without a listener BullMQ prints every connection error to stderr while Redis is down;
      // the calls that need Redis fail on their own and are handled (or logged) by their callers.
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }

  async enqueue<Name extends JobName>(
    queue: QueueName,
    name: Name,
    payload: JobPayload<Name>,
    options: { jobId?: string; priority?: number; delay?: number },
  ): Promise<void> {
    const entry = JOB_CATALOG[name];
    const data = entry.schema.parse(payload);
    await this.queue(queue).add(name, data, { ...entry.options, ...options });
  }

  /** Adds many jobs of one kind to one queue in a single round trip. */
  async enqueueMany<Name extends JobName>(
    queue: QueueName,
    name: Name,
    jobs: { payload: JobPayload<Name>; jobId: string; priority?: number; delay?: number }[],
  ): Promise<void> {
    if (jobs.length === 0) return;
    const entry = JOB_CATALOG[name];
    await this.queue(queue).addBulk(
      jobs.map((job) => ({
        name,
        data: entry.schema.parse(job.payload),
        opts: { ...entry.options, jobId: job.jobId, priority: job.priority, delay: job.delay },
      })),
    );
  }

  /** Job counts by state for every queue, e.g. for the queue overview and readiness. */
  async counts(): Promise<Record<QueueName, Record<string, number>>> {
    const entries = await Promise.all(
      QUEUE_NAMES.map(
        async (name) =>
          [
            name,
            await this.queue(name).getJobCounts(
              'waiting',
              'active',
              'delayed',
              'failed',
              'completed',
              'prioritized',
            ),
          ] as const,
      ),
    );
    return Object.fromEntries(entries) as Record<QueueName, Record<string, number>>;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
  }
}
