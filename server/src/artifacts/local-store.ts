import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import {
  ArtifactMissingError,
  assertValidKey,
  type ArtifactSource,
  type ArtifactStore,
} from './artifact-store.js';

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code;

/** Artifacts as files in a folder: the default, under the data folder. */
export class LocalArtifactStore implements ArtifactStore {
  readonly kind = 'local';
  readonly location: string;

  constructor(root: string) {
    this.location = resolve(root);
  }

  private pathOf(key: string): string {
    assertValidKey(key);
    return join(this.location, ...key.split('/'));
  }

  async ready(): Promise<void> {
    await mkdir(this.location, { recursive: true });
  }

  async put(key: string, source: ArtifactSource, _contentType: string): Promise<number> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    // Written beside the target and renamed, so a reader never sees half a file.
    const partial = `${target}.partial-${randomBytes(4).toString('hex')}`;
    try {
      if ('body' in source) await writeFile(partial, source.body);
      else await moveFile(source.path, partial);
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    return (await stat(target)).size;
  }

  async get(key: string) {
    const path = this.pathOf(key);
    try {
      const { size } = await stat(path);
      return { body: createReadStream(path), size };
    } catch (error) {
      if (errorCode(error) === 'ENOENT') throw new ArtifactMissingError(key);
      throw error;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    const folders = new Set<string>();
    for (const key of keys) {
      const path = this.pathOf(key);
      await rm(path, { force: true });
      folders.add(dirname(path));
    }
    // Folders left empty go too, up to the root, so retention leaves no skeleton behind.
    for (const folder of folders) await this.removeEmpty(folder);
  }

  private async removeEmpty(folder: string): Promise<void> {
    for (
      let current = folder;
      current.startsWith(this.location + sep);
      current = dirname(current)
    ) {
      try {
        await rmdir(current);
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOTEMPTY' || code === 'EEXIST') return;
        if (code !== 'ENOENT') throw error;
      }
    }
  }
}

async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    // Another file system (the case's temp folder on tmpfs, say): copy instead.
    if (errorCode(error) !== 'EXDEV') throw error;
    await copyFile(from, to);
    await rm(from, { force: true });
  }
}
