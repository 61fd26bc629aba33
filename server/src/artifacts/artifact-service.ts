import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Artifact, ArtifactLink } from '@webguard/shared';
import {
  publicView,
  type ArtifactRepository,
  type StoredArtifact,
} from '../db/artifact-repository.js';
import { AppError, notFound } from '../errors.js';
import { ArtifactMissingError, type ArtifactStore } from './artifact-store.js';
import type { LinkSigner } from './link-signer.js';
import { purgeDeletedArtifactFiles } from './retention.js';

export interface ArtifactContent {
  artifact: Artifact;
  body: Readable;
  size: number;
}

/** What the API does with artifacts: list, stream, hand out expiring links, delete files. */
export class ArtifactService {
  constructor(
    private readonly repository: ArtifactRepository,
    private readonly store: ArtifactStore,
    private readonly signer: LinkSigner,
  ) {}

  async listForResult(resultId: number): Promise<Artifact[]> {
    const items = await this.repository.listForResult(resultId);
    if (!items) throw notFound('result', resultId);
    return items;
  }

  async open(id: number): Promise<ArtifactContent> {
    const stored = await this.find(id);
    try {
      const { body, size } = await this.store.get(stored.storage_key);
      return { artifact: publicView(stored), body, size };
    } catch (error) {
      if (!(error instanceof ArtifactMissingError)) throw error;
      throw new AppError(
        404,
        'NOT_FOUND',
        `artifact ${id} is recorded but its file is gone from the ${this.store.kind} store`,
      );
    }
  }

  /**
   * Deletes the files of artifacts whose rows were just deleted (a suite deleted with its runs).
   * A store that fails leaves them queued for the next purge or the hourly retention job.
   */
  async purgeDeletedFiles(logger: Pick<Logger, 'info' | 'warn'>): Promise<void> {
    try {
      await purgeDeletedArtifactFiles({ repository: this.repository, store: this.store, logger });
    } catch (error) {
      logger.warn({ err: error }, 'files of deleted artifacts stay queued: the store failed');
    }
  }

  /**
   * A link that works without credentials until it expires: signed by S3 itself for the S3
   * store, else by the API (`GET /api/v1/artifacts/{id}/download?expires=…&signature=…`).
   */
  async link(id: number, expiresInSeconds: number, apiBaseUrl: string): Promise<ArtifactLink> {
    const stored = await this.find(id);
    const expiresAt = Math.floor(Date.now() / 1000) + expiresInSeconds;
    const expires_at = new Date(expiresAt * 1000).toISOString();
    if (this.store.presign) {
      const url = await this.store.presign(stored.storage_key, {
        expiresInSeconds,
        contentType: stored.content_type,
        fileName: stored.name,
      });
      return { url, expires_at };
    }
    const query = new URLSearchParams({
      expires: String(expiresAt),
      signature: this.signer.sign(id, expiresAt),
    });
    return { url: `${apiBaseUrl}${stored.url}/download?${query}`, expires_at };
  }

  /** Opens an artifact for a link the API signed, after checking signature and expiry. */
  async openSigned(id: number, expires: number, signature: string): Promise<ArtifactContent> {
    const check = this.signer.check(id, expires, signature);
    if (check === 'invalid') {
      throw new AppError(
        403,
        'FORBIDDEN',
        'this artifact link is not valid: its signature does not match',
      );
    }
    if (check === 'expired') {
      throw new AppError(403, 'FORBIDDEN', 'this artifact link has expired: ask for a new one');
    }
    return this.open(id);
  }

  private async find(id: number): Promise<StoredArtifact> {
    const stored = await this.repository.get(id);
    if (!stored) throw notFound('artifact', id);
    return stored;
  }
}
