import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Artifact } from '@webguard/shared';
import type { ArtifactRepository, NewArtifact } from '../db/artifact-repository.js';
import type { ArtifactFile, ArtifactSink } from '../engine/artifact-sink.js';
import type { ArtifactStore } from './artifact-store.js';

/** A file name safe in a key and on any file system; the real name is kept in the row. */
function keyName(name: string): string {
  return name.replace(/[^\w.-]+/g, '_').slice(-100) || 'file';
}

/**
 * The artifacts of one attempt of one case: stored as the case produces them, linked to its
 * result once that is written. An attempt whose result is not written (a retry follows, or
 * another delivery already recorded the case) leaves nothing behind.
 */
export class CaseArtifacts implements ArtifactSink {
  private readonly stored: NewArtifact[] = [];
  private sequence = 0;

  constructor(
    private readonly store: ArtifactStore,
    private readonly prefix: string,
  ) {}

  static forCase(store: ArtifactStore, executionId: number, caseId: number): CaseArtifacts {
    return new CaseArtifacts(store, `executions/${executionId}/cases/${caseId}/${randomUUID()}`);
  }

  get files(): readonly NewArtifact[] {
    return this.stored;
  }

  async add(file: ArtifactFile): Promise<void> {
    this.sequence += 1;
    const storageKey = `${this.prefix}/${String(this.sequence).padStart(3, '0')}-${keyName(file.name)}`;
    const sizeBytes = await this.store.put(storageKey, file.source, file.contentType);
    this.stored.push({
      kind: file.kind,
      name: file.name,
      contentType: file.contentType,
      sizeBytes,
      storageKey,
    });
  }

  /**
   * Links the stored files to the case's result; without a result they are deleted. Never
   * throws: losing an artifact must not lose the result it belongs to.
   */
  async commit(
    repository: ArtifactRepository,
    executionId: number,
    caseId: number,
    logger: Logger,
  ): Promise<Artifact[]> {
    if (this.stored.length === 0) return [];
    try {
      const linked = await repository.addToResult(executionId, caseId, this.stored);
      if (linked) return linked;
    } catch (error) {
      logger.error(
        { err: error, files: this.stored.length },
        'could not record the artifacts of a case',
      );
    }
    await this.discard(logger);
    return [];
  }

  /** Deletes what was stored, e.g. for an attempt that will be retried. */
  async discard(logger: Logger): Promise<void> {
    const keys = this.stored.splice(0).map((file) => file.storageKey);
    if (keys.length === 0) return;
    try {
      await this.store.delete(keys);
    } catch (error) {
      logger.warn({ err: error, keys }, 'could not delete the artifacts of an unrecorded attempt');
    }
  }
}
