import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactMissingError, type ArtifactStore } from './artifact-store.js';
import { LinkSigner } from './link-signer.js';
import { LocalArtifactStore } from './local-store.js';
import { S3ArtifactStore, type S3StoreOptions } from './s3-store.js';

async function read(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const BUCKET = 'webguard-artifacts';
const temporary: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
};

// s3rver is an S3 server in Node: the store talks real S3 HTTP to it (path-style, as to MinIO),
// and it enforces access keys and the expiry of presigned links.
let s3: S3rver;
let s3Options: S3StoreOptions;

beforeAll(async () => {
  s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: tempDir('wg-s3rver-'),
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  const { port } = await s3.run();
  s3Options = {
    bucket: BUCKET,
    prefix: 'team-a/',
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  };
});

afterAll(async () => {
  await s3?.close();
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

const stores: [string, () => ArtifactStore][] = [
  ['local folder', () => new LocalArtifactStore(tempDir('wg-artifacts-'))],
  ['S3', () => new S3ArtifactStore(s3Options)],
];

describe.each(stores)('artifact store: %s', (_name, makeStore) => {
  let store: ArtifactStore;

  beforeAll(async () => {
    store = makeStore();
    await store.ready();
  });

  it('keeps bytes and files and streams them back with their size', async () => {
    const fromMemory = 'executions/1/cases/2/abc/001-notes.txt';
    expect(
      await store.put(fromMemory, { body: Buffer.from('hello artifacts') }, 'text/plain'),
    ).toBe(15);
    const kept = await store.get(fromMemory);
    expect(kept.size).toBe(15);
    expect(await read(kept.body)).toBe('hello artifacts');

    const file = join(tempDir('wg-source-'), 'video.mp4');
    writeFileSync(file, Buffer.alloc(200_000, 7));
    const fromFile = 'executions/1/cases/2/abc/002-video.mp4';
    expect(await store.put(fromFile, { path: file }, 'video/mp4')).toBe(200_000);
    expect((await store.get(fromFile)).size).toBe(200_000);
  });

  it('reports a missing file as missing and deletes idempotently', async () => {
    const key = 'executions/9/cases/9/x/001-gone.png';
    await store.put(key, { body: Buffer.from('png') }, 'image/png');
    await store.delete([key, 'executions/9/cases/9/x/never-existed.png']);
    await expect(store.get(key)).rejects.toBeInstanceOf(ArtifactMissingError);
    await store.delete([key]);
  });

  it('refuses keys that could reach outside the store', async () => {
    for (const key of ['../etc/passwd', '/abs/path', 'a//b', 'a/./b', '']) {
      await expect(store.put(key, { body: Buffer.from('x') }, 'text/plain')).rejects.toThrow(
        /invalid artifact key/,
      );
    }
  });
});

describe('local artifact store', () => {
  it('moves a source file in and removes folders that retention emptied', async () => {
    const root = tempDir('wg-local-');
    const store = new LocalArtifactStore(root);
    const source = join(tempDir('wg-source-'), 'trace.zip');
    writeFileSync(source, 'zip');
    await store.put('executions/5/cases/1/run/001-trace.zip', { path: source }, 'application/zip');
    expect(existsSync(source)).toBe(false);
    await store.delete(['executions/5/cases/1/run/001-trace.zip']);
    expect(readdirSync(root)).toEqual([]);
  });
});

describe('S3 artifact store', () => {
  it('signs links that download without credentials until they expire', async () => {
    const store = new S3ArtifactStore(s3Options);
    const key = 'executions/3/cases/4/run/001-failure.png';
    await store.put(key, { body: Buffer.from('fake png') }, 'image/png');
    // Long enough that a loaded machine still fetches it in time, short enough to see it expire.
    const url = await store.presign(key, {
      expiresInSeconds: 4,
      contentType: 'image/png',
      fileName: 'failure shot.png',
    });
    expect(url).toContain(`/${BUCKET}/team-a/executions/3/cases/4/run/001-failure.png?`);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('content-disposition')).toContain('failure shot.png');
    expect(await response.text()).toBe('fake png');

    // s3rver checks the key id and the expiry of a SigV4 link, not the signature's bytes.
    const stranger = url.replace(/X-Amz-Credential=S3RVER/, 'X-Amz-Credential=INTRUDER');
    expect((await fetch(stranger)).status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 4_100));
    const expired = await fetch(url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');
  });

  it('says which setting to check when the bucket is not there', async () => {
    const store = new S3ArtifactStore({ ...s3Options, bucket: 'no-such-bucket' });
    await expect(store.ready()).rejects.toThrow(/no-such-bucket.*WEBGUARD_S3_\*/);
  });
});

describe('LinkSigner', () => {
  const signer = new LinkSigner(Buffer.alloc(32, 1));

  it('accepts its own signature until the expiry, and nothing else', () => {
    const expires = Math.floor(Date.now() / 1000) + 60;
    const signature = signer.sign(42, expires);
    expect(signature).toMatch(/^[\w-]{43}$/);
    expect(signer.check(42, expires, signature)).toBe('valid');
    expect(signer.check(43, expires, signature)).toBe('invalid');
    expect(signer.check(42, expires + 1, signature)).toBe('invalid');
    expect(signer.check(42, expires, signature, (expires + 1) * 1000)).toBe('expired');
    expect(new LinkSigner(Buffer.alloc(32, 2)).check(42, expires, signature)).toBe('invalid');
  });
});
