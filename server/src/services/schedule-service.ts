import { CronExpressionParser } from 'cron-parser';
import type { Logger } from 'pino';
import type { Suite, SuiteSchedule } from '@webguard/shared';
import { AppError } from '../errors.js';
import { jobIds, SCHEDULES_QUEUE } from '../queues/job-catalog.js';
import type { JobQueues } from '../queues/job-queues.js';

export interface ScheduleServiceDeps {
  queues: JobQueues;
  /** Zone for suites that do not name one. */
  defaultTimezone: string;
  logger: Logger;
}

/**
 * Keeps BullMQ job schedulers in step with suites' `schedule_cron`. A scheduler is keyed by the
 * suite id, so any number of processes upserting it leave one scheduler, and it fires one job
 * per tick however many scheduler processes run.
 */
export class ScheduleService {
  /** Schedule changes saved while Redis was away, by suite: the latest suite, or its removal. */
  private readonly deferred = new Map<number, Suite | 'removed'>();
  private waitingForRedis = false;

  constructor(private readonly deps: ScheduleServiceDeps) {}

  timezoneOf(suite: Pick<Suite, 'schedule_timezone'>): string {
    return suite.schedule_timezone ?? this.deps.defaultTimezone;
  }

  /** Rejects an expression the parser cannot read, with the parser's reason (400). */
  validate(cron: string | null | undefined, timezone: string | null | undefined): void {
    if (!cron) return;
    try {
      CronExpressionParser.parse(cron, { tz: timezone ?? this.deps.defaultTimezone });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new AppError(
        400,
        'VALIDATION_FAILED',
        `schedule_cron "${cron}" is not a valid cron expression: ${reason}`,
        [{ path: 'schedule_cron', message: reason }],
      );
    }
  }

  describe(suite: Suite, count = 5, from = new Date()): SuiteSchedule {
    const timezone = this.timezoneOf(suite);
    const active = suite.enabled && suite.schedule_cron !== null;
    const next_runs = active
      ? CronExpressionParser.parse(suite.schedule_cron!, { tz: timezone, currentDate: from })
          .take(count)
          .map((date) => date.toDate().toISOString())
      : [];
    return { suite_id: suite.id, schedule_cron: suite.schedule_cron, timezone, active, next_runs };
  }

  /**
   * Writes the suite's scheduler. While Redis is away the suite is already saved, so the change
   * waits here and goes out when Redis is back instead of holding the request.
   */
  async sync(suite: Suite): Promise<void> {
    if (await this.deferWhileAway(suite.id, suite)) return;
    const queue = this.deps.queues.queue(SCHEDULES_QUEUE);
    const id = jobIds.schedule(suite.id);
    if (suite.enabled && suite.schedule_cron) {
      await queue.upsertJobScheduler(
        id,
        { pattern: suite.schedule_cron, tz: this.timezoneOf(suite) },
        { name: 'scheduled-run', data: { suite_id: suite.id } },
      );
    } else {
      await queue.removeJobScheduler(id);
    }
  }

  async remove(suiteId: number): Promise<void> {
    if (await this.deferWhileAway(suiteId, 'removed')) return;
    await this.deps.queues.queue(SCHEDULES_QUEUE).removeJobScheduler(jobIds.schedule(suiteId));
  }

  private async deferWhileAway(suiteId: number, change: Suite | 'removed'): Promise<boolean> {
    const client = await this.deps.queues.queue(SCHEDULES_QUEUE).client;
    if (client.status === 'ready') return false;
    this.deferred.set(suiteId, change);
    this.deps.logger.warn(
      { suite_id: suiteId, redis: client.status },
      'Redis is unreachable: the schedule change is saved and goes to Redis when it is back',
    );
    if (!this.waitingForRedis) {
      this.waitingForRedis = true;
      client.once('ready', () => void this.flushDeferred());
    }
    return true;
  }

  private async flushDeferred(): Promise<void> {
    this.waitingForRedis = false;
    for (const [suiteId, change] of [...this.deferred]) {
      this.deferred.delete(suiteId);
      try {
        if (change === 'removed') await this.remove(suiteId);
        else await this.sync(change);
      } catch (error) {
        this.deps.logger.error(
          { err: error, suite_id: suiteId },
          'a schedule change saved while Redis was away could not be written',
        );
      }
    }
  }

  /** Makes the schedulers match the suites exactly, e.g. after edits made while Redis was down. */
  async syncAll(suites: Suite[]): Promise<void> {
    const queue = this.deps.queues.queue(SCHEDULES_QUEUE);
    const wanted = new Set(
      suites
        .filter((suite) => suite.enabled && suite.schedule_cron)
        .map((suite) => jobIds.schedule(suite.id)),
    );
    for (const suite of suites) await this.sync(suite);
    for (const scheduler of await queue.getJobSchedulers(0, -1)) {
      const id = scheduler.id ?? scheduler.key;
      if (!wanted.has(id)) await queue.removeJobScheduler(id);
    }
    this.deps.logger.info({ schedules: wanted.size }, 'schedules synchronized');
  }
}
