import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import type { Logger } from 'pino';
import type {
  ChannelTestResult,
  CreateChannelBody,
  DeliveryReason,
  ExecutionWithResults,
  NotificationChannel,
  NotificationPayload,
  NotificationRule,
} from '@webguard/shared';
import type { Database } from '../db/database.js';
import { ExecutionRepository } from '../db/execution-repository.js';
import type { ChannelRecord, NotificationRepository } from '../db/notification-repository.js';
import { testExecutions } from '../db/schema.js';
import { notFound } from '../errors.js';
import type { SecretBox } from '../orchestration/secret-box.js';
import { NOTIFICATIONS_QUEUE } from '../queues/job-catalog.js';
import type { JobQueues } from '../queues/job-queues.js';
import { sendEmail, sendSlack, sendWebhook, type SendResult } from './senders.js';

const FAILING = ['failed', 'error', 'timeout'];
const JUDGED = ['passed', ...FAILING];

/** A run is bad when a case failed or its quality gate did. */
const isFailing = (execution: { status: string; quality_gate: { passed: boolean } | null }) =>
  FAILING.includes(execution.status) || execution.quality_gate?.passed === false;

/** Channels, the rules that pick them when a run ends, and delivery with retries via the queue. */
export class NotificationService {
  constructor(
    private readonly deps: {
      db: Database;
      repository: NotificationRepository;
      box: SecretBox;
      queues: JobQueues;
      logger: Logger;
    },
  ) {}

  /** Stores a channel; its secrets are sealed before they reach the database. */
  createChannel(body: CreateChannelBody, projectId: number): Promise<NotificationChannel> {
    const { box, repository } = this.deps;
    const base = { projectId, name: body.name, type: body.type };
    if (body.type === 'webhook')
      return repository.createChannel({
        ...base,
        config: { url: body.url },
        secrets: { secret: box.seal(body.secret) },
      });
    if (body.type === 'slack')
      return repository.createChannel({
        ...base,
        config: {},
        secrets: { webhook_url: box.seal(body.webhook_url) },
      });
    return repository.createChannel({
      ...base,
      config: { from: body.from, to: body.to },
      secrets: { smtp_url: box.seal(body.smtp_url) },
    });
  }

  /**
   * 1. A run ended: find its suite's channels whose rule matches (failure, recovery after a
   *    failing run, always) and record one delivery each; 2. queue their sending. A repeated job
   *    finds the deliveries already recorded and queues nothing twice.
   */
  async onExecutionFinished(executionId: number): Promise<void> {
    const { db, repository, queues } = this.deps;
    const execution = await new ExecutionRepository(db).find(executionId);
    if (!execution) return;
    const subscriptions = await repository.suiteNotifications(execution.suite_id);
    if (subscriptions.length === 0) return;

    const failing = isFailing(execution);
    let recovered = false;
    if (!failing && subscriptions.some((s) => s.rule === 'recovery')) {
      const [previous] = await db
        .select({ status: testExecutions.status, gate: testExecutions.qualityGate })
        .from(testExecutions)
        .where(
          and(
            eq(testExecutions.suiteId, execution.suite_id),
            inArray(testExecutions.status, JUDGED),
            lt(testExecutions.id, executionId),
          ),
        )
        .orderBy(desc(testExecutions.id))
        .limit(1);
      recovered =
        previous !== undefined &&
        isFailing({ status: previous.status, quality_gate: previous.gate });
    }
    const matches = (rule: NotificationRule) =>
      rule === 'always' || (rule === 'failure' && failing) || (rule === 'recovery' && recovered);

    for (const subscription of subscriptions.filter((s) => matches(s.rule))) {
      const deliveryId = await repository.createDelivery(
        subscription.channel_id,
        executionId,
        subscription.rule === 'always'
          ? recovered
            ? 'recovery'
            : failing
              ? 'failure'
              : 'always'
          : subscription.rule,
      );
      if (deliveryId === undefined) continue;
      await queues.enqueue(
        NOTIFICATIONS_QUEUE,
        'deliver-notification',
        { delivery_id: deliveryId },
        { jobId: `deliver-${deliveryId}` },
      );
    }
  }

  /** Sends one delivery; throws when it failed and another attempt is left, so BullMQ retries. */
  async deliver(deliveryId: number, attempt: number, final: boolean): Promise<void> {
    const { db, repository, logger } = this.deps;
    const delivery = await repository.findDelivery(deliveryId);
    if (!delivery || delivery.status === 'delivered') return;
    const record = await repository.findChannel(delivery.channel_id);
    if (!record?.channel.enabled) {
      await repository.recordAttempt(
        deliveryId,
        { ok: false, error: 'the channel is disabled', final: true },
        attempt,
      );
      return;
    }
    // A test message is sent at once by sendTest and never queued, so every queued one has a run.
    const execution = await new ExecutionRepository(db).getWithResults(delivery.execution_id!);
    const result = await this.send(record, toPayload(execution, delivery.rule), deliveryId);
    await repository.recordAttempt(deliveryId, { ...result, final }, attempt);
    if (result.ok) return;
    logger.warn(
      {
        delivery_id: deliveryId,
        channel: record.channel.name,
        attempt,
        final,
        error: result.error,
      },
      final ? 'notification not delivered; giving up' : 'notification not delivered; will retry',
    );
    if (!final)
      throw new Error(`delivery ${deliveryId} failed: ${result.error ?? 'unknown error'}`);
  }

  /**
   * Sends a made-up run's message through the channel now, even a disabled one, so its settings
   * can be checked before a real run depends on them; the attempt goes into the delivery log.
   */
  async sendTest(channelId: number): Promise<ChannelTestResult> {
    const { repository } = this.deps;
    const record = await repository.findChannel(channelId);
    if (!record) throw notFound('notification channel', channelId);
    // With no run, the one-delivery-per-run index never turns it away.
    const deliveryId = (await repository.createDelivery(channelId, null, 'test'))!;
    const result = await this.send(record, SAMPLE_PAYLOAD, deliveryId);
    await repository.recordAttempt(deliveryId, { ...result, final: true }, 1);
    return {
      delivered: result.ok,
      error: result.ok ? null : (result.error ?? 'unknown error'),
      response_status: result.responseStatus ?? null,
      delivery_id: deliveryId,
    };
  }

  private send(
    record: ChannelRecord,
    payload: NotificationPayload,
    deliveryId: number,
  ): Promise<SendResult> {
    const secret = (name: string) => this.deps.box.open(record.secrets[name]!);
    if (record.channel.type === 'webhook')
      return sendWebhook(String(record.config['url']), secret('secret'), payload, deliveryId);
    if (record.channel.type === 'slack') return sendSlack(secret('webhook_url'), payload);
    return sendEmail(
      secret('smtp_url'),
      String(record.config['from']),
      record.config['to'] as string[],
      payload,
    );
  }
}

/** What a test message carries: a failing run, so every part of a real message shows. */
const SAMPLE_PAYLOAD: NotificationPayload = {
  event: 'channel.test',
  rule: 'test',
  execution: {
    id: 0,
    suite_id: 0,
    suite_name: 'Sample suite',
    status: 'failed',
    total_tests: 3,
    passed_tests: 2,
    failed_tests: 1,
    skipped_tests: 0,
    execution_time_ms: 4200,
    ci_commit_sha: null,
    ci_branch: null,
    quality_gate_passed: null,
  },
  failures: [{ test_name: 'sample check', error_message: 'a made-up failure: nothing is wrong' }],
};

export function toPayload(
  execution: ExecutionWithResults,
  rule: DeliveryReason,
): NotificationPayload {
  return {
    event: 'execution.finished',
    rule,
    execution: {
      id: execution.id,
      suite_id: execution.suite_id,
      suite_name: execution.suite_name,
      status: execution.status,
      total_tests: execution.total_tests,
      passed_tests: execution.passed_tests,
      failed_tests: execution.failed_tests,
      skipped_tests: execution.skipped_tests,
      execution_time_ms: execution.execution_time_ms,
      ci_commit_sha: execution.ci_commit_sha,
      ci_branch: execution.ci_branch,
      quality_gate_passed: execution.quality_gate?.passed ?? null,
    },
    failures: execution.results
      .filter((result) => FAILING.includes(result.status))
      .slice(0, 10)
      .map((result) => ({ test_name: result.test_name, error_message: result.error_message })),
  };
}
