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

  async sync(suite: Suite): Promise<void> {
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
    await this.deps.queues.queue(SCHEDULES_QUEUE).removeJobScheduler(jobIds.schedule(suiteId));
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
