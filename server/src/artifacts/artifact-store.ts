import type { Readable } from 'node:stream';

/** What a store is given to keep: bytes in memory, or a file it may move. */
export type ArtifactSource = { body: Uint8Array } | { path: string };

/** Where artifact files live. Keys are relative paths like `executions/7/cases/3/…-failure.png`. */
export interface ArtifactStore {
  readonly kind: 'local' | 's3';
  /** For logs: the folder or the bucket. */
  readonly location: string;
  /** Fails with a message saying what is wrong when the store cannot be used. */
  ready(): Promise<void>;
  /** Stores `source` under `key` and returns its size in bytes. */
  put(key: string, source: ArtifactSource, contentType: string): Promise<number>;
  /** Streams the file; throws ArtifactMissingError when there is none. */
  get(key: string): Promise<{ body: Readable; size: number }>;
  /** Deletes the files; keys that do not exist are fine. */
  delete(keys: readonly string[]): Promise<void>;
  /**
   * A URL that downloads the file without credentials until it expires, when the store can sign
   * one itself (S3); the API signs its own links for stores that cannot.
   */
  presign?(
    key: string,
    options: { expiresInSeconds: number; contentType: string; fileName: string },
  ): Promise<string>;
}

export class ArtifactMissingError extends Error {
  constructor(readonly key: string) {
    super(`the artifact file ${key} is not in the store`);
    this.name = 'ArtifactMissingError';
  }
}

/** Keys are made by WebGuard; this keeps a bad one from ever reaching outside the store. */
export function assertValidKey(key: string): void {
  const segments = key.split('/');
  const valid =
    key.length > 0 &&
    key.length <= 900 &&
    segments.every((segment) => /^[\w.-]+$/.test(segment) && segment !== '.' && segment !== '..');
  if (!valid) throw new Error(`invalid artifact key ${JSON.stringify(key)}`);
}
