import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('uses the embedded defaults on an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8000,
      databaseUrl: undefined,
      redisUrl: 'redis://127.0.0.1:6379',
      home: join(homedir(), '.webguard'),
      queuePrefix: 'webguard',
      skillPaths: [],
      logLevel: 'info',
    });
    expect(config.concurrency.browser).toBe(2);
    expect(config.concurrency.api).toBe(10);
  });

  it('reads every value it is given', () => {
    const config = loadConfig({
      HOST: '0.0.0.0',
      PORT: '9000',
      DATABASE_URL: 'postgres://root@127.0.0.1:5432/test',
      REDIS_URL: 'redis://127.0.0.1:6380',
      WEBGUARD_HOME: '/var/lib/webguard',
      WEBGUARD_SKILLS_PATHS: '/opt/skills:/srv/more-skills',
      WEBGUARD_CONCURRENCY_API: '25',
    });
    expect(config.port).toBe(9000);
    expect(config.databaseUrl).toBe('postgres://root@127.0.0.1:5432/test');
    expect(config.home).toBe('/var/lib/webguard');
    expect(config.skillPaths).toEqual(['/opt/skills', '/srv/more-skills']);
    expect(config.concurrency.api).toBe(25);
  });

  it('treats an empty DATABASE_URL as unset', () => {
    expect(loadConfig({ DATABASE_URL: '' }).databaseUrl).toBeUndefined();
  });

  it('names every bad value on its own line', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        REDIS_URL: 'http://x',
        WEBGUARD_HOME: 'relative/dir',
        LOG_LEVEL: 'loud',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems).toContain('PORT: must be a number (got "eighty")');
    expect(problems.find((line) => line.startsWith('REDIS_URL:'))).toContain(
      'redis://127.0.0.1:6379',
    );
    expect(problems.find((line) => line.startsWith('WEBGUARD_HOME:'))).toContain('absolute path');
    expect(problems.find((line) => line.startsWith('LOG_LEVEL:'))).toContain('"loud"');
    expect((error as Error).message.split('\n')).toHaveLength(5);
  });

  it('rejects a port out of range', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT: must be between 1 and 65535/);
  });
});

describe('browser and artifact settings', () => {
  it('defaults to no video, no trace and a local store under the data folder', () => {
    const config = loadConfig({ WEBGUARD_HOME: '/srv/wg', PATH: '/usr/bin:/bin' });
    expect(config.browser).toEqual({
      chromiumPath: undefined,
      searchPath: '/usr/bin:/bin',
      video: 'off',
      trace: 'off',
    });
    expect(config.artifacts).toEqual({
      dir: '/srv/wg/artifacts',
      retentionDays: 30,
      s3: undefined,
    });
  });

  it('reads a Chromium, capture modes, a folder and a retention period', () => {
    const config = loadConfig({
      WEBGUARD_CHROMIUM_PATH: '/opt/chromium/chrome',
      WEBGUARD_VIDEO: 'always',
      WEBGUARD_TRACE: 'off',
      WEBGUARD_ARTIFACTS_DIR: '/data/artifacts',
      WEBGUARD_ARTIFACT_RETENTION_DAYS: '0',
    });
    expect(config.browser).toMatchObject({
      chromiumPath: '/opt/chromium/chrome',
      video: 'always',
      trace: 'off',
    });
    expect(config.artifacts).toMatchObject({ dir: '/data/artifacts', retentionDays: 0 });
  });

  it('switches to S3 when a bucket is set, path-style for a custom endpoint such as MinIO', () => {
    const minio = loadConfig({
      WEBGUARD_S3_BUCKET: 'webguard',
      WEBGUARD_S3_ENDPOINT: 'http://minio:9000',
      WEBGUARD_S3_ACCESS_KEY_ID: 'minio',
      WEBGUARD_S3_SECRET_ACCESS_KEY: 'minio123',
      WEBGUARD_S3_PREFIX: 'prod',
    });
    expect(minio.artifacts.s3).toEqual({
      bucket: 'webguard',
      prefix: 'prod/',
      region: 'us-east-1',
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
      credentials: { accessKeyId: 'minio', secretAccessKey: 'minio123' },
    });
    const aws = loadConfig({ WEBGUARD_S3_BUCKET: 'webguard', WEBGUARD_S3_REGION: 'eu-west-1' });
    expect(aws.artifacts.s3).toMatchObject({ forcePathStyle: false, credentials: undefined });
  });

  it('names each bad browser or artifact value', () => {
    let error: unknown;
    try {
      loadConfig({
        WEBGUARD_CHROMIUM_PATH: 'chromium',
        WEBGUARD_VIDEO: 'sometimes',
        WEBGUARD_ARTIFACT_RETENTION_DAYS: '-1',
        WEBGUARD_S3_BUCKET: 'Bad_Bucket',
        WEBGUARD_S3_ENDPOINT: 'minio:9000',
        WEBGUARD_S3_ACCESS_KEY_ID: 'only-the-id',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const names = (error as ConfigError).problems.map((line) => line.split(':')[0]);
    expect(names.sort()).toEqual([
      'WEBGUARD_ARTIFACT_RETENTION_DAYS',
      'WEBGUARD_CHROMIUM_PATH',
      'WEBGUARD_S3_BUCKET',
      'WEBGUARD_S3_ENDPOINT',
      'WEBGUARD_VIDEO',
    ]);
  });

  it('wants both S3 keys or neither', () => {
    expect(() => loadConfig({ WEBGUARD_S3_ACCESS_KEY_ID: 'id' })).toThrow(
      /WEBGUARD_S3_SECRET_ACCESS_KEY: must be set together/,
    );
  });

  it('reads the live, metrics and tracing settings and names bad ones', () => {
    expect(loadConfig({}).observability).toEqual({
      liveToken: undefined,
      streamMaxLen: 10_000,
      streamTtlSeconds: 86_400,
      tickMs: 5_000,
      frameFps: 2,
      metricsPort: undefined,
      otlpEndpoint: undefined,
      serviceName: 'webguard',
    });
    expect(
      loadConfig({
        WEBGUARD_LIVE_TOKEN: 'a-long-shared-token',
        WEBGUARD_FRAME_FPS: '5',
        WEBGUARD_METRICS_PORT: '9464',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318',
      }).observability,
    ).toMatchObject({
      liveToken: 'a-long-shared-token',
      frameFps: 5,
      metricsPort: 9464,
      otlpEndpoint: 'http://otel:4318',
    });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }).observability.otlpEndpoint).toBe(
      undefined,
    );
    let error: unknown;
    try {
      loadConfig({
        WEBGUARD_LIVE_TOKEN: 'short',
        WEBGUARD_FRAME_FPS: '60',
        WEBGUARD_METRICS_PORT: '70000',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'otel:4318',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((line) => line.split(':')[0]).sort()).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'WEBGUARD_FRAME_FPS',
      'WEBGUARD_LIVE_TOKEN',
      'WEBGUARD_METRICS_PORT',
    ]);
  });

  it('reads the sign-in and hardening settings and names a bad one', () => {
    const config = loadConfig({
      WEBGUARD_ADMIN_EMAIL: 'root@example.com',
      WEBGUARD_CORS_ORIGINS: 'https://a.example.com, https://b.example.com',
      WEBGUARD_TRUST_PROXY: '2',
      WEBGUARD_LOGIN_RATE_LIMIT: '5',
    });
    expect(config.auth).toMatchObject({
      adminEmail: 'root@example.com',
      adminPassword: undefined,
      accessTokenTtl: 900,
      corsOrigins: ['https://a.example.com', 'https://b.example.com'],
      trustProxy: 2,
      loginRateLimit: 5,
      metricsToken: undefined,
    });
    expect(() =>
      loadConfig({ WEBGUARD_ADMIN_PASSWORD: 'short', WEBGUARD_CORS_ORIGINS: 'example.com' }),
    ).toThrow(
      /WEBGUARD_ADMIN_PASSWORD: must be at least 12 characters[\s\S]*WEBGUARD_CORS_ORIGINS/,
    );
  });
});
