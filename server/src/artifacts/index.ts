export { ArtifactMissingError, type ArtifactSource, type ArtifactStore } from './artifact-store.js';
export { ArtifactService, type ArtifactContent } from './artifact-service.js';
export { CaseArtifacts } from './case-artifacts.js';
export { contentDisposition } from './content-disposition.js';
export { LinkSigner, type LinkCheck } from './link-signer.js';
export { LocalArtifactStore } from './local-store.js';
export { openArtifactStore, type ArtifactStoreConfig } from './open-store.js';
export {
  ARTIFACT_RETENTION_EVERY_MS,
  ARTIFACT_RETENTION_SCHEDULER,
  pruneArtifacts,
  purgeDeletedArtifactFiles,
  scheduleArtifactRetention,
  type PruneArtifactsOptions,
} from './retention.js';
export { S3ArtifactStore, type S3StoreOptions } from './s3-store.js';
