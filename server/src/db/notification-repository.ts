import { and, desc, eq, inArray } from 'drizzle-orm';
import type {
  ChannelType,
  DeliveryReason,
  NotificationChannel,
  NotificationDelivery,
  NotificationRule,
  SuiteNotification,
} from '@webguard/shared';
import { conflict, isUniqueViolation, notFound } from '../errors.js';
import type { SealedSecret } from '../orchestration/secret-box.js';
import type { Database } from './database.js';
import { notificationChannels, notificationDeliveries, suiteNotifications } from './schema.js';

type ChannelRow = typeof notificationChannels.$inferSelect;

/** A channel with what it needs to deliver: shown settings and sealed secrets. */
export interface ChannelRecord {
  channel: NotificationChannel;
  config: Record<string, unknown>;
  secrets: Record<string, SealedSecret>;
}

const target = (row: ChannelRow): string => {
  const config = row.config as Record<string, unknown>;
  if (row.type === 'webhook') return String(config['url']);
  if (row.type === 'email') return (config['to'] as string[]).join(', ');
  return 'Slack incoming webhook';
};

const toRecord = (row: ChannelRow): ChannelRecord => ({
  channel: {
    id: row.id,
    project_id: row.projectId,
    name: row.name,
    type: row.type as ChannelType,
    enabled: row.enabled,
    target: target(row),
    created_at: row.createdAt.toISOString(),
  },
  config: row.config,
  secrets: row.secrets,
});

const toDelivery = (row: typeof notificationDeliveries.$inferSelect): NotificationDelivery => ({
  id: row.id,
  channel_id: row.channelId,
  execution_id: row.executionId,
  rule: row.rule as DeliveryReason,
  status: row.status as NotificationDelivery['status'],
  attempts: row.attempts,
  last_error: row.lastError,
  response_status: row.responseStatus,
  created_at: row.createdAt.toISOString(),
  delivered_at: row.deliveredAt?.toISOString() ?? null,
});

/** Notification channels, which suites use them, and the delivery log. */
export class NotificationRepository {
  constructor(private readonly db: Database) {}

  async createChannel(input: {
    projectId: number;
    name: string;
    type: ChannelType;
    config: Record<string, string | string[]>;
    secrets: Record<string, SealedSecret>;
  }): Promise<NotificationChannel> {
    try {
      const [row] = await this.db
        .insert(notificationChannels)
        .values({
          projectId: input.projectId,
          name: input.name,
          type: input.type,
          config: input.config,
          secrets: input.secrets,
        })
        .returning();
      return toRecord(row!).channel;
    } catch (error) {
      if (isUniqueViolation(error))
        throw conflict(
          `a channel named ${JSON.stringify(input.name)} already exists in this project`,
        );
      throw error;
    }
  }

  async listChannels(projectIds: number[] | undefined): Promise<NotificationChannel[]> {
    const rows = await this.db
      .select()
      .from(notificationChannels)
      .where(projectIds ? inArray(notificationChannels.projectId, projectIds) : undefined)
      .orderBy(notificationChannels.id);
    return rows.map((row) => toRecord(row).channel);
  }

  async findChannel(id: number): Promise<ChannelRecord | undefined> {
    const [row] = await this.db
      .select()
      .from(notificationChannels)
      .where(eq(notificationChannels.id, id));
    return row && toRecord(row);
  }

  async updateChannel(
    id: number,
    changes: { name?: string | undefined; enabled?: boolean | undefined },
  ) {
    try {
      const [row] = await this.db
        .update(notificationChannels)
        .set({ ...changes, updatedAt: new Date() })
        .where(eq(notificationChannels.id, id))
        .returning();
      if (!row) throw notFound('notification channel', id);
      return toRecord(row).channel;
    } catch (error) {
      if (isUniqueViolation(error) && changes.name)
        throw conflict(
          `a channel named ${JSON.stringify(changes.name)} already exists in this project`,
        );
      throw error;
    }
  }

  async deleteChannel(id: number): Promise<void> {
    const deleted = await this.db
      .delete(notificationChannels)
      .where(eq(notificationChannels.id, id))
      .returning({ id: notificationChannels.id });
    if (deleted.length === 0) throw notFound('notification channel', id);
  }

  async suiteNotifications(suiteId: number): Promise<SuiteNotification[]> {
    const rows = await this.db
      .select()
      .from(suiteNotifications)
      .where(eq(suiteNotifications.suiteId, suiteId))
      .orderBy(suiteNotifications.channelId);
    return rows.map((row) => ({ channel_id: row.channelId, rule: row.rule as NotificationRule }));
  }

  async replaceSuiteNotifications(suiteId: number, items: SuiteNotification[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.delete(suiteNotifications).where(eq(suiteNotifications.suiteId, suiteId));
      if (items.length > 0)
        await tx
          .insert(suiteNotifications)
          .values(items.map((item) => ({ suiteId, channelId: item.channel_id, rule: item.rule })));
    });
  }

  /**
   * Records that a run notifies a channel (or, with no run, a test message); undefined when the
   * run already did (a repeated job).
   */
  async createDelivery(
    channelId: number,
    executionId: number | null,
    rule: DeliveryReason,
  ): Promise<number | undefined> {
    const [row] = await this.db
      .insert(notificationDeliveries)
      .values({ channelId, executionId, rule })
      .onConflictDoNothing()
      .returning({ id: notificationDeliveries.id });
    return row?.id;
  }

  async findDelivery(id: number): Promise<NotificationDelivery | undefined> {
    const [row] = await this.db
      .select()
      .from(notificationDeliveries)
      .where(eq(notificationDeliveries.id, id));
    return row && toDelivery(row);
  }

  async recordAttempt(
    id: number,
    outcome: { ok: boolean; error?: string; responseStatus?: number; final: boolean },
    attempts: number,
  ): Promise<void> {
    await this.db
      .update(notificationDeliveries)
      .set({
        attempts,
        status: outcome.ok ? 'delivered' : outcome.final ? 'failed' : 'pending',
        lastError: outcome.ok ? null : (outcome.error ?? null),
        responseStatus: outcome.responseStatus ?? null,
        deliveredAt: outcome.ok ? new Date() : null,
      })
      .where(and(eq(notificationDeliveries.id, id)));
  }

  async deliveries(channelId: number, limit = 100): Promise<NotificationDelivery[]> {
    const rows = await this.db
      .select()
      .from(notificationDeliveries)
      .where(eq(notificationDeliveries.channelId, channelId))
      .orderBy(desc(notificationDeliveries.id))
      .limit(limit);
    return rows.map(toDelivery);
  }
}
