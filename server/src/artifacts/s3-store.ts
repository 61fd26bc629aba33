import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  ArtifactMissingError,
  assertValidKey,
  type ArtifactSource,
  type ArtifactStore,
} from './artifact-store.js';
import { contentDisposition } from './content-disposition.js';

export interface S3StoreOptions {
  bucket: string;
  /** Prepended to every key, so one bucket can hold several installations. */
  prefix: string;
  region: string;
  /** An S3-compatible service such as MinIO; unset means AWS. */
  endpoint?: string;
  /** Bucket in the path instead of the host name, as MinIO and most compatible services need. */
  forcePathStyle: boolean;
  /** Unset means the AWS default chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** S3 allows at most this many keys per DeleteObjects call. */
const DELETE_BATCH = 1000;

/** Artifacts in an S3 bucket (AWS or S3-compatible, e.g. MinIO). */
export class S3ArtifactStore implements ArtifactStore {
  readonly kind = 's3';
  readonly location: string;
  private readonly client: S3Client;

  constructor(private readonly options: S3StoreOptions) {
    this.location = `s3://${options.bucket}/${options.prefix}${options.endpoint ? ` at ${options.endpoint}` : ''}`;
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials: options.credentials,
      // Checksums only where S3 requires them: newer default checksum headers and trailers are
      // not understood by every S3-compatible service.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  private objectKey(key: string): string {
    assertValidKey(key);
    return `${this.options.prefix}${key}`;
  }

  async ready(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.options.bucket }));
    } catch (error) {
      const reason =
        error instanceof S3ServiceException
          ? `${error.name} (HTTP ${error.$metadata.httpStatusCode ?? '?'})`
          : error instanceof Error
            ? error.message
            : String(error);
      throw new Error(
        `the artifact bucket ${this.location} cannot be used: ${reason}; check WEBGUARD_S3_* settings and that the bucket exists`,
      );
    }
  }

  async put(key: string, source: ArtifactSource, contentType: string): Promise<number> {
    const size = 'body' in source ? source.body.byteLength : (await stat(source.path)).size;
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.objectKey(key),
        Body: 'body' in source ? source.body : createReadStream(source.path),
        ContentLength: size,
        ContentType: contentType,
      }),
    );
    return size;
  }

  async get(key: string) {
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
      );
      if (!(object.Body instanceof Readable)) throw new Error(`S3 returned no body for ${key}`);
      return { body: object.Body, size: object.ContentLength ?? 0 };
    } catch (error) {
      if (error instanceof NoSuchKey) throw new ArtifactMissingError(key);
      throw error;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH);
      const result = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.options.bucket,
          Delete: { Objects: batch.map((key) => ({ Key: this.objectKey(key) })), Quiet: true },
        }),
      );
      const failed = result.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw new Error(
          `S3 did not delete ${failed.length} artifact files, e.g. ${first?.Key}: ${first?.Code} ${first?.Message}`,
        );
      }
    }
  }

  async presign(
    key: string,
    options: { expiresInSeconds: number; contentType: string; fileName: string },
  ): Promise<string> {
    return getSignedUrl(
      this.client,
      new GetObjectCommand({
        Bucket: this.options.bucket,
        Key: this.objectKey(key),
        ResponseContentType: options.contentType,
        ResponseContentDisposition: contentDisposition(options.fileName),
      }),
      { expiresIn: options.expiresInSeconds },
    );
  }
}
