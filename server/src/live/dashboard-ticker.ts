import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LIVE_EVENTS_VERSION, type DashboardTick } from '@webguard/shared';
import type { LiveKeys } from './keys.js';

/** The cluster's picture a tick carries, without the envelope. */
export type ClusterSnapshot = Pick<
  DashboardTick,
  'active_tests' | 'running_executions' | 'queues' | 'workers_online'
>;

/** Keep leadership while we hold it, or take it when nobody does. */
const LEAD_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
`;

export interface DashboardTickerOptions {
  redis: Redis;
  keys: LiveKeys;
  nodeId: string;
  intervalMs: number;
  snapshot: () => Promise<ClusterSnapshot>;
  /** Sends the tick to every dashboard client of the cluster (through the Socket.IO adapter). */
  broadcast: (tick: DashboardTick) => void;
  logger: Logger;
}

/**
 * One API node at a time (whichever holds a short Redis lease) computes the cluster's picture
 * and broadcasts it, so the queues are counted once per tick however many API nodes run.
 */
export class DashboardTicker {
  private readonly timer: NodeJS.Timeout;
  private running = false;

  constructor(private readonly options: DashboardTickerOptions) {
    this.timer = setInterval(() => void this.tick(), options.intervalMs);
    this.timer.unref();
    void this.tick();
  }

  /** The cluster's latest tick, sent to a client when it joins the room so it need not wait. */
  async latest(): Promise<DashboardTick | undefined> {
    const json = await this.options.redis.get(this.options.keys.dashboardLast);
    return json ? (JSON.parse(json) as DashboardTick) : undefined;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    const { redis, keys, nodeId } = this.options;
    try {
      if ((await redis.get(keys.dashboardLeader)) === nodeId) await redis.del(keys.dashboardLeader);
    } catch {
      // The lease lapses by itself.
    }
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const { redis, keys, nodeId, intervalMs, logger } = this.options;
    try {
      const lead = await redis.eval(
        LEAD_SCRIPT,
        1,
        keys.dashboardLeader,
        nodeId,
        String(intervalMs * 2),
      );
      if (lead !== 1) return;
      const snapshot = await this.options.snapshot();
      const tick: DashboardTick = {
        v: LIVE_EVENTS_VERSION,
        type: 'dashboard.tick',
        seq: await redis.incr(keys.dashboardSeq),
        time: new Date().toISOString(),
        ...snapshot,
      };
      await redis.set(keys.dashboardLast, JSON.stringify(tick), 'PX', intervalMs * 3);
      this.options.broadcast(tick);
    } catch (error) {
      logger.warn({ err: error }, 'dashboard tick skipped');
    } finally {
      this.running = false;
    }
  }
}
