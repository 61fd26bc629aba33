import { z } from 'zod';
import { ArtifactKind } from '../status.js';
import { Id, Timestamp } from './common.js';

/** A file name as users see it in downloads: no folders, no control characters. */
export const ArtifactName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200)
  .regex(/^[^/\\\p{Cc}]+$/u, 'must not contain slashes or control characters');

/** `type/subtype` with optional parameters, e.g. `text/plain; charset=utf-8`. */
export const ContentType = z
  .string()
  .trim()
  .max(255)
  .regex(
    /^[\w.+-]+\/[\w.+-]+(\s*;\s*[\w.+-]+=("[^"]*"|[\w.+-]+))*$/,
    'must be a media type like image/png or text/plain; charset=utf-8',
  );

/** A file kept with a case result: screenshot, video, trace, log or attachment. */
export const Artifact = z.object({
  id: z.number().int(),
  result_id: z.number().int(),
  kind: ArtifactKind,
  name: z.string(),
  content_type: z.string(),
  size_bytes: z.number().int().min(0),
  created_at: Timestamp,
  url: z.string().describe('where the API serves its content (GET, with the API credentials)'),
});
export type Artifact = z.infer<typeof Artifact>;

export const ArtifactList = z.object({ items: z.array(Artifact) });
export type ArtifactList = z.infer<typeof ArtifactList>;

/** A signed link stays valid at most a week, as S3 allows. */
export const MAX_ARTIFACT_LINK_SECONDS = 7 * 24 * 3600;

export const ArtifactLinkQuery = z.object({
  expires_in: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_ARTIFACT_LINK_SECONDS)
    .default(3600)
    .describe('seconds the link stays valid (default 3600, at most a week)'),
});
export type ArtifactLinkQuery = z.infer<typeof ArtifactLinkQuery>;

/** A link that downloads an artifact without credentials until it expires. */
export const ArtifactLink = z.object({
  url: z.string(),
  expires_at: Timestamp,
});
export type ArtifactLink = z.infer<typeof ArtifactLink>;

/** The query of a link the API signed itself (local artifact store). */
export const SignedArtifactQuery = z.object({
  expires: z.coerce.number().int().positive().describe('expiry, in seconds since the epoch'),
  signature: z.string().regex(/^[\w-]{43}$/, 'must be the signature the link was issued with'),
});
export type SignedArtifactQuery = z.infer<typeof SignedArtifactQuery>;

export const ResultIdParams = z.object({ resultId: Id });
export type ResultIdParams = z.infer<typeof ResultIdParams>;

/** Deletes artifacts (files and rows) older than the retention period. */
export const PruneArtifactsJob = z.object({
  older_than_days: z.number().int().positive(),
});
export type PruneArtifactsJob = z.infer<typeof PruneArtifactsJob>;
