import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { ArtifactRepository } from '../db/artifact-repository.js';
import { JOB_CATALOG } from '../queues/job-catalog.js';
import type { ArtifactStore } from './artifact-store.js';

/** One id for the repeatable job, so every process that schedules it updates the same one. */
export const ARTIFACT_RETENTION_SCHEDULER = 'artifact-retention';
/** How often expired artifacts are looked for: often enough that a day's limit holds. */
export const ARTIFACT_RETENTION_EVERY_MS = 60 * 60 * 1000;
const BATCH = 500;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface PruneArtifactsOptions {
  repository: ArtifactRepository;
  store: ArtifactStore;
  olderThanDays: number;
  now?: Date;
  logger?: Logger;
}

/**
 * Deletes artifacts created more than `olderThanDays` ago: files first, then rows. A run that
 * stops halfway leaves rows whose files are gone, which the next run deletes again harmlessly.
 */
export async function pruneArtifacts(options: PruneArtifactsOptions): Promise<{ deleted: number }> {
  const cutoff = new Date((options.now ?? new Date()).getTime() - options.olderThanDays * DAY_MS);
  let deleted = 0;
  for (;;) {
    const expired = await options.repository.createdBefore(cutoff, BATCH);
    if (expired.length === 0) break;
    await options.store.delete(expired.map((artifact) => artifact.storageKey));
    await options.repository.deleteRows(expired);
    deleted += expired.length;
    if (expired.length < BATCH) break;
  }
  if (deleted > 0) {
    options.logger?.info({ deleted, cutoff: cutoff.toISOString() }, 'expired artifacts deleted');
  }
  return { deleted };
}

/**
 * Keeps the hourly retention job scheduled on `queue` (a BullMQ job scheduler, so it survives
 * restarts and runs once per tick however many processes call this); 0 days removes it.
 */
export async function scheduleArtifactRetention(
  queue: Queue,
  retentionDays: number,
): Promise<void> {
  if (retentionDays === 0) {
    await queue.removeJobScheduler(ARTIFACT_RETENTION_SCHEDULER);
    return;
  }
  const entry = JOB_CATALOG['prune-artifacts'];
  await queue.upsertJobScheduler(
    ARTIFACT_RETENTION_SCHEDULER,
    { every: ARTIFACT_RETENTION_EVERY_MS },
    {
      name: 'prune-artifacts',
      data: entry.schema.parse({ older_than_days: retentionDays }),
      opts: entry.options,
    },
  );
}
