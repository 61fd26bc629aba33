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
 * Deletes artifacts created more than `olderThanDays` ago: rows first, which queues their files,
 * then the queued files, including those of rows deleted any other way (a suite deleted with its
 * runs). A run that stops halfway leaves files queued, for the next one.
 */
export async function pruneArtifacts(options: PruneArtifactsOptions): Promise<{ deleted: number }> {
  const cutoff = new Date((options.now ?? new Date()).getTime() - options.olderThanDays * DAY_MS);
  let deleted = 0;
  for (;;) {
    const expired = await options.repository.createdBefore(cutoff, BATCH);
    if (expired.length === 0) break;
    await options.repository.deleteRows(expired);
    deleted += expired.length;
    if (expired.length < BATCH) break;
  }
  if (deleted > 0) {
    options.logger?.info({ deleted, cutoff: cutoff.toISOString() }, 'expired artifacts deleted');
  }
  await purgeDeletedArtifactFiles(options);
  return { deleted };
}

/**
 * Deletes from the store the files of artifact rows that are gone, then takes them off the
 * queue: a file is only forgotten once the store has deleted it.
 */
export async function purgeDeletedArtifactFiles(options: {
  repository: ArtifactRepository;
  store: ArtifactStore;
  logger?: Pick<Logger, 'info'> | undefined;
}): Promise<{ files: number }> {
  let files = 0;
  for (;;) {
    const keys = await options.repository.queuedFileDeletions(BATCH);
    if (keys.length === 0) break;
    await options.store.delete(keys);
    await options.repository.forgetFileDeletions(keys);
    files += keys.length;
    if (keys.length < BATCH) break;
  }
  if (files > 0) options.logger?.info({ files }, 'files of deleted artifacts removed');
  return { files };
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
