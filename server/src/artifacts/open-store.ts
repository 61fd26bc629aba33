import type { ArtifactStore } from './artifact-store.js';
import { LocalArtifactStore } from './local-store.js';
import { S3ArtifactStore, type S3StoreOptions } from './s3-store.js';

export interface ArtifactStoreConfig {
  /** Folder of the local store. */
  dir: string;
  /** When set, artifacts go to this S3 bucket instead of the folder. */
  s3: S3StoreOptions | undefined;
}

/** The configured store, checked usable: a folder by default, S3 when a bucket is configured. */
export async function openArtifactStore(config: ArtifactStoreConfig): Promise<ArtifactStore> {
  const store = config.s3 ? new S3ArtifactStore(config.s3) : new LocalArtifactStore(config.dir);
  await store.ready();
  return store;
}
