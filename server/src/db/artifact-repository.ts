import { and, asc, eq, inArray, lt } from 'drizzle-orm';
import type { Artifact, ArtifactKind } from '@webguard/shared';
import type { Database } from './database.js';
import { artifactDeletions, artifacts, testResults } from './schema.js';

type ArtifactRow = typeof artifacts.$inferSelect;

/** A stored file about to become an `artifacts` row. */
export interface NewArtifact {
  kind: ArtifactKind;
  name: string;
  contentType: string;
  sizeBytes: number;
  storageKey: string;
}

/** An artifact with where its file lives, for the services that read or delete it. */
export interface StoredArtifact extends Artifact {
  storage_key: string;
}

/** An artifact past its retention period. */
export interface ExpiredArtifact {
  id: number;
  resultId: number;
  storageKey: string;
}

/** Where the API serves an artifact's content; test_results' URL columns hold these paths. */
export const artifactDownloadPath = (id: number) => `/api/v1/artifacts/${id}`;

const toArtifact = (row: ArtifactRow): StoredArtifact => ({
  id: row.id,
  result_id: row.resultId,
  kind: row.kind as ArtifactKind,
  name: row.name,
  content_type: row.contentType,
  size_bytes: row.sizeBytes,
  created_at: row.createdAt.toISOString(),
  url: artifactDownloadPath(row.id),
  storage_key: row.storageKey,
});

/** What API clients see: where the file lives in the store is WebGuard's business. */
export const publicView = ({ storage_key: _key, ...artifact }: StoredArtifact): Artifact =>
  artifact;

/** The artifact whose URL a result shows first: the last one of its kind (a failure screenshot is taken last). */
function mainUrl(rows: ArtifactRow[], kind: ArtifactKind): string | undefined {
  const row = rows.filter((candidate) => candidate.kind === kind).at(-1);
  return row ? artifactDownloadPath(row.id) : undefined;
}

export class ArtifactRepository {
  constructor(private readonly db: Database) {}

  /**
   * Links artifacts to the result of a case in a run and points the result's screenshot, video
   * and log URLs at the main ones. Null when the case has no result to link them to.
   */
  async addToResult(
    executionId: number,
    caseId: number,
    files: readonly NewArtifact[],
  ): Promise<Artifact[] | null> {
    return this.db.transaction(async (tx) => {
      const [result] = await tx
        .select({ id: testResults.id })
        .from(testResults)
        .where(and(eq(testResults.executionId, executionId), eq(testResults.testCaseId, caseId)));
      if (!result) return null;
      if (files.length === 0) return [];
      const rows = await tx
        .insert(artifacts)
        .values(files.map((file) => ({ ...file, resultId: result.id })))
        .returning();
      const urls = {
        screenshotUrl: mainUrl(rows, 'screenshot'),
        videoUrl: mainUrl(rows, 'video'),
        logUrl: mainUrl(rows, 'log'),
      };
      const set = Object.fromEntries(Object.entries(urls).filter(([, url]) => url !== undefined));
      if (Object.keys(set).length > 0) {
        await tx.update(testResults).set(set).where(eq(testResults.id, result.id));
      }
      return rows.map((row) => publicView(toArtifact(row)));
    });
  }

  async get(id: number): Promise<StoredArtifact | undefined> {
    const [row] = await this.db.select().from(artifacts).where(eq(artifacts.id, id));
    return row ? toArtifact(row) : undefined;
  }

  /** The artifacts of a result, oldest first; undefined when there is no such result. */
  async listForResult(resultId: number): Promise<Artifact[] | undefined> {
    const [result] = await this.db
      .select({ id: testResults.id })
      .from(testResults)
      .where(eq(testResults.id, resultId));
    if (!result) return undefined;
    const rows = await this.db
      .select()
      .from(artifacts)
      .where(eq(artifacts.resultId, resultId))
      .orderBy(asc(artifacts.id));
    return rows.map((row) => publicView(toArtifact(row)));
  }

  /** A batch of artifacts created before `cutoff`, oldest first. */
  async createdBefore(cutoff: Date, limit: number): Promise<ExpiredArtifact[]> {
    return this.db
      .select({ id: artifacts.id, resultId: artifacts.resultId, storageKey: artifacts.storageKey })
      .from(artifacts)
      .where(lt(artifacts.createdAt, cutoff))
      .orderBy(asc(artifacts.createdAt), asc(artifacts.id))
      .limit(limit);
  }

  /**
   * Deletes rows, and clears the result URLs that pointed at them. Their files are queued for
   * deletion in the same transaction (see `artifactDeletions`).
   */
  async deleteRows(expired: readonly ExpiredArtifact[]): Promise<void> {
    if (expired.length === 0) return;
    const urls = expired.map((artifact) => artifactDownloadPath(artifact.id));
    // Narrowed to the results concerned by primary key: the URL columns have no index.
    const ofResults = inArray(testResults.id, [...new Set(expired.map((a) => a.resultId))]);
    await this.db.transaction(async (tx) => {
      await tx
        .update(testResults)
        .set({ screenshotUrl: null })
        .where(and(ofResults, inArray(testResults.screenshotUrl, urls)));
      await tx
        .update(testResults)
        .set({ videoUrl: null })
        .where(and(ofResults, inArray(testResults.videoUrl, urls)));
      await tx
        .update(testResults)
        .set({ logUrl: null })
        .where(and(ofResults, inArray(testResults.logUrl, urls)));
      await tx.delete(artifacts).where(
        inArray(
          artifacts.id,
          expired.map((artifact) => artifact.id),
        ),
      );
    });
  }

  /** Files of deleted artifact rows still to be deleted from the store, oldest first. */
  async queuedFileDeletions(limit: number): Promise<string[]> {
    const rows = await this.db
      .select({ key: artifactDeletions.storageKey })
      .from(artifactDeletions)
      .orderBy(asc(artifactDeletions.deletedAt))
      .limit(limit);
    return rows.map((row) => row.key);
  }

  /** Takes files the store has deleted off the queue. */
  async forgetFileDeletions(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.delete(artifactDeletions).where(inArray(artifactDeletions.storageKey, [...keys]));
  }
}
