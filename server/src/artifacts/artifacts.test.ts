import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Queue } from 'bullmq';
import { eq, sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.js';
import { TEST_REDIS_URL, uniqueQueuePrefix } from '../../test/support/redis.js';
import { ArtifactRepository, artifactDownloadPath } from '../db/artifact-repository.js';
import { openDatabase, type DatabaseHandle } from '../db/index.js';
import {
  artifactDeletions,
  artifacts,
  testCases,
  testExecutions,
  testResults,
  testSuites,
} from '../db/schema.js';
import { AppError } from '../errors.js';
import { ArtifactService } from './artifact-service.js';
import { CaseArtifacts } from './case-artifacts.js';
import { LinkSigner } from './link-signer.js';
import { LocalArtifactStore } from './local-store.js';
import {
  ARTIFACT_RETENTION_EVERY_MS,
  ARTIFACT_RETENTION_SCHEDULER,
  pruneArtifacts,
  purgeDeletedArtifactFiles,
  scheduleArtifactRetention,
} from './retention.js';

const logger = pino({ level: 'silent' });

async function read(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

let database: TestDatabase;
let handle: DatabaseHandle;
let root: string;
let store: LocalArtifactStore;
let repository: ArtifactRepository;
let service: ArtifactService;
let executionId: number;
const caseIds: number[] = [];

/** A run of a suite with three cases; the first two have results. */
beforeAll(async () => {
  database = await createTestDatabase();
  handle = await openDatabase({ databaseUrl: database.url, home: '/nonexistent' });
  await handle.migrate();
  const db = handle.db;
  const [suite] = await db.insert(testSuites).values({ name: 'shop' }).returning();
  const [execution] = await db.insert(testExecutions).values({ suiteId: suite!.id }).returning();
  executionId = execution!.id;
  for (const name of ['checkout', 'search', 'never-recorded']) {
    const [row] = await db
      .insert(testCases)
      .values({ suiteId: suite!.id, name, skillName: 'browser-flow' })
      .returning();
    caseIds.push(row!.id);
  }
  for (const caseId of caseIds.slice(0, 2)) {
    await db.insert(testResults).values({
      executionId,
      testCaseId: caseId,
      testName: `case ${caseId}`,
      status: 'failed',
    });
  }
  root = mkdtempSync(join(tmpdir(), 'wg-artifact-db-'));
  store = new LocalArtifactStore(root);
  await store.ready();
  repository = new ArtifactRepository(db);
  service = new ArtifactService(repository, store, new LinkSigner(Buffer.alloc(32, 9)));
});

afterAll(async () => {
  await handle?.close();
  await database?.drop();
  rmSync(root, { recursive: true, force: true });
});

const resultOf = async (caseId: number) => {
  const [row] = await handle.db
    .select()
    .from(testResults)
    .where(eq(testResults.testCaseId, caseId));
  return row!;
};

describe('case artifacts', () => {
  it('are stored as produced and linked to the result, which points at the main ones', async () => {
    const recorder = CaseArtifacts.forCase(store, executionId, caseIds[0]!);
    const text = (value: string) => ({ body: Buffer.from(value) });
    await recorder.add({
      kind: 'screenshot',
      name: 'cart.png',
      contentType: 'image/png',
      source: text('a'),
    });
    await recorder.add({
      kind: 'video',
      name: 'video.mp4',
      contentType: 'video/mp4',
      source: text('vid'),
    });
    await recorder.add({
      kind: 'log',
      name: 'browser.log',
      contentType: 'text/plain',
      source: text('log'),
    });
    await recorder.add({
      kind: 'screenshot',
      name: 'failure.png',
      contentType: 'image/png',
      source: text('b'),
    });
    expect(recorder.files.map((file) => file.storageKey)).toEqual([
      expect.stringMatching(
        new RegExp(`^executions/${executionId}/cases/${caseIds[0]}/[\\w-]+/001-cart.png$`),
      ),
      expect.stringMatching(/002-video\.mp4$/),
      expect.stringMatching(/003-browser\.log$/),
      expect.stringMatching(/004-failure\.png$/),
    ]);

    const linked = await recorder.commit(repository, executionId, caseIds[0]!, logger);
    expect(linked.map((artifact) => [artifact.kind, artifact.name, artifact.size_bytes])).toEqual([
      ['screenshot', 'cart.png', 1],
      ['video', 'video.mp4', 3],
      ['log', 'browser.log', 3],
      ['screenshot', 'failure.png', 1],
    ]);
    const result = await resultOf(caseIds[0]!);
    expect(result).toMatchObject({
      screenshotUrl: artifactDownloadPath(linked[3]!.id),
      videoUrl: artifactDownloadPath(linked[1]!.id),
      logUrl: artifactDownloadPath(linked[2]!.id),
    });
    expect(await service.listForResult(result.id)).toEqual(linked);
  });

  it('leave nothing behind when their attempt is not recorded', async () => {
    const recorder = CaseArtifacts.forCase(store, executionId, caseIds[2]!);
    await recorder.add({
      kind: 'screenshot',
      name: 'failure.png',
      contentType: 'image/png',
      source: { body: Buffer.from('x') },
    });
    expect(await recorder.commit(repository, executionId, caseIds[2]!, logger)).toEqual([]);
    expect(readdirSync(join(root, 'executions', String(executionId), 'cases'))).not.toContain(
      String(caseIds[2]),
    );
  });
});

describe('artifact service', () => {
  it('streams an artifact and signs links that expire', async () => {
    const [first] = await service.listForResult((await resultOf(caseIds[0]!)).id);
    const content = await service.open(first!.id);
    expect(content).toMatchObject({ size: 1, artifact: { name: 'cart.png' } });
    expect(await read(content.body)).toBe('a');

    const link = await service.link(first!.id, 60, 'http://wg.example:8000');
    const url = new URL(link.url);
    expect(url.origin + url.pathname).toBe(
      `http://wg.example:8000/api/v1/artifacts/${first!.id}/download`,
    );
    expect(Date.parse(link.expires_at) - Date.now()).toBeGreaterThan(55_000);
    const expires = Number(url.searchParams.get('expires'));
    const signature = url.searchParams.get('signature')!;
    expect(await read((await service.openSigned(first!.id, expires, signature)).body)).toBe('a');

    const refused = (promise: Promise<unknown>) => expect(promise).rejects.toBeInstanceOf(AppError);
    await refused(service.openSigned(first!.id + 1, expires, signature));
    await expect(service.openSigned(first!.id, expires - 120, signature)).rejects.toThrow(
      /not valid/,
    );
    await expect(service.listForResult(999_999)).rejects.toThrow(/result 999999 does not exist/);
    await expect(service.open(999_999)).rejects.toThrow(/artifact 999999 does not exist/);
  });

  it('says when a recorded artifact lost its file', async () => {
    const recorder = CaseArtifacts.forCase(store, executionId, caseIds[1]!);
    await recorder.add({
      kind: 'attachment',
      name: 'data.json',
      contentType: 'application/json',
      source: { body: Buffer.from('{}') },
    });
    const [linked] = await recorder.commit(repository, executionId, caseIds[1]!, logger);
    await store.delete(recorder.files.map((file) => file.storageKey));
    await expect(service.open(linked!.id)).rejects.toThrow(/its file is gone from the local store/);
  });
});

describe('retention', () => {
  it('deletes artifacts older than the limit, files and rows, and clears result URLs', async () => {
    const recorder = CaseArtifacts.forCase(store, executionId, caseIds[1]!);
    await recorder.add({
      kind: 'screenshot',
      name: 'recent.png',
      contentType: 'image/png',
      source: { body: Buffer.from('r') },
    });
    await recorder.commit(repository, executionId, caseIds[1]!, logger);
    // Everything of the first case is made 40 days old.
    const old = await handle.db
      .update(artifacts)
      .set({ createdAt: sql`now() - interval '40 days'` })
      .where(eq(artifacts.resultId, (await resultOf(caseIds[0]!)).id))
      .returning({ key: artifacts.storageKey });

    expect(await pruneArtifacts({ repository, store, olderThanDays: 30, logger })).toEqual({
      deleted: 4,
    });
    for (const { key } of old) await expect(store.get(key)).rejects.toThrow(/not in the store/);
    expect(await resultOf(caseIds[0]!)).toMatchObject({
      screenshotUrl: null,
      videoUrl: null,
      logUrl: null,
    });
    expect(await service.listForResult((await resultOf(caseIds[0]!)).id)).toEqual([]);
    const kept = await service.listForResult((await resultOf(caseIds[1]!)).id);
    expect(kept.map((artifact) => artifact.name)).toContain('recent.png');
    expect((await resultOf(caseIds[1]!)).screenshotUrl).not.toBeNull();
    expect(await pruneArtifacts({ repository, store, olderThanDays: 30, logger })).toEqual({
      deleted: 0,
    });
  });

  it('deletes the files of a suite deleted with its runs, which only the cascade knew of', async () => {
    const db = handle.db;
    const [suite] = await db.insert(testSuites).values({ name: 'doomed' }).returning();
    const [execution] = await db.insert(testExecutions).values({ suiteId: suite!.id }).returning();
    const [testCase] = await db
      .insert(testCases)
      .values({ suiteId: suite!.id, name: 'gone', skillName: 'browser-flow' })
      .returning();
    await db.insert(testResults).values({
      executionId: execution!.id,
      testCaseId: testCase!.id,
      testName: 'gone',
      status: 'failed',
    });
    const recorder = CaseArtifacts.forCase(store, execution!.id, testCase!.id);
    await recorder.add({
      kind: 'screenshot',
      name: 'gone.png',
      contentType: 'image/png',
      source: { body: Buffer.from('g') },
    });
    const [linked] = await recorder.commit(repository, execution!.id, testCase!.id, logger);
    const { storage_key: key } = (await repository.get(linked!.id))!;

    await db.delete(testSuites).where(eq(testSuites.id, suite!.id));
    // The rows went with the suite; the file waits in the queue, not forgotten.
    expect(await read((await store.get(key)).body)).toBe('g');
    expect(await repository.queuedFileDeletions(10)).toEqual([key]);

    expect(await purgeDeletedArtifactFiles({ repository, store, logger })).toEqual({ files: 1 });
    await expect(store.get(key)).rejects.toThrow(/not in the store/);
    expect(await db.select().from(artifactDeletions)).toEqual([]);
  });

  it('keeps a file queued while the store cannot delete it', async () => {
    await handle.db.insert(artifactDeletions).values({ storageKey: 'runs/1/1/kept.png' });
    const failing = {
      ...store,
      delete: () => Promise.reject(new Error('store is down')),
    } as unknown as LocalArtifactStore;
    await expect(purgeDeletedArtifactFiles({ repository, store: failing, logger })).rejects.toThrow(
      /store is down/,
    );
    expect(await repository.queuedFileDeletions(10)).toEqual(['runs/1/1/kept.png']);
    expect(await purgeDeletedArtifactFiles({ repository, store, logger })).toEqual({ files: 1 });
  });

  it('runs as one hourly BullMQ job scheduler, removed when retention is off', async () => {
    const queue = new Queue('executions', {
      connection: { url: TEST_REDIS_URL },
      prefix: uniqueQueuePrefix(),
    });
    try {
      await scheduleArtifactRetention(queue, 14);
      await scheduleArtifactRetention(queue, 14);
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers).toEqual([
        expect.objectContaining({
          key: ARTIFACT_RETENTION_SCHEDULER,
          every: ARTIFACT_RETENTION_EVERY_MS,
          name: 'prune-artifacts',
          template: expect.objectContaining({ data: { older_than_days: 14 } }),
        }),
      ]);
      await scheduleArtifactRetention(queue, 0);
      expect(await queue.getJobSchedulers()).toEqual([]);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
