import { watch, type FSWatcher } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { SkillInfo } from '@webguard/shared';
import type { SkillRegistry } from './skill-registry.js';

export interface SkillReloaderDeps {
  registry: SkillRegistry;
  /** Records what loaded (the `skills_registry` table), after every reload. */
  record: (skills: SkillInfo[]) => Promise<void>;
  /** Publishes reload requests to the other processes of the cluster. */
  publisher: Redis;
  /** BullMQ prefix, so installations sharing a Redis do not reload each other. */
  prefix: string;
  logger: Logger;
}

/**
 * Hot reload of the skill registry without restarting anything: on request (the API's
 * `POST /skills/reload`, told to every process over Redis pub/sub) and, when enabled, whenever a
 * file under a skill folder changes. Cases already running keep the definition they started with.
 */
export class SkillReloader {
  private readonly channel: string;
  /** Tells this process's own broadcast apart from the others', so it reloads once. */
  private readonly origin = randomUUID();
  private readonly watchers: FSWatcher[] = [];
  private debounce: NodeJS.Timeout | undefined;

  constructor(private readonly deps: SkillReloaderDeps) {
    this.channel = `${deps.prefix}:skills-reload`;
  }

  /** Reloads this process's registry and records the result. */
  async reload(reason: string): Promise<void> {
    const { registry, logger } = this.deps;
    await registry.load();
    await this.deps.record(registry.list().map((skill) => skill.info));
    logger.info(
      { reason, skills: registry.all().length, failed: registry.errors().length },
      'skills reloaded',
    );
    for (const problem of registry.errors()) logger.error({ skill: problem }, 'skill not loaded');
  }

  /** Reloads here, then tells every other process to do the same. */
  async reloadEverywhere(): Promise<void> {
    await this.reload('requested');
    await this.deps.publisher.publish(this.channel, this.origin);
  }

  /** Follows reload requests from other processes, on a connection of its own. */
  async listen(subscriber: Redis): Promise<void> {
    subscriber.on('message', (channel: string, origin: string) => {
      if (channel !== this.channel || origin === this.origin) return;
      this.reload('requested by another process').catch((error: unknown) =>
        this.deps.logger.error({ err: error }, 'skill reload failed'),
      );
    });
    await subscriber.subscribe(this.channel);
  }

  /**
   * Reloads when anything under `dirs` changes, once a burst of changes has settled (an editor
   * saving writes several times). A folder that cannot be watched is logged and skipped.
   */
  watch(dirs: string[], settleMs = 300): void {
    for (const dir of dirs) {
      try {
        const watcher = watch(dir, { recursive: true }, () => this.schedule(settleMs));
        watcher.on('error', (error) =>
          this.deps.logger.warn({ err: error, dir }, 'stopped watching a skill folder'),
        );
        this.watchers.push(watcher);
      } catch (error) {
        this.deps.logger.warn({ err: error, dir }, 'cannot watch a skill folder');
      }
    }
  }

  private schedule(settleMs: number): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.reload('a skill file changed').catch((error: unknown) =>
        this.deps.logger.error({ err: error }, 'skill reload failed'),
      );
    }, settleMs);
  }

  close(): void {
    clearTimeout(this.debounce);
    for (const watcher of this.watchers) watcher.close();
    this.watchers.length = 0;
  }
}
