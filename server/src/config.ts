import { homedir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

const positiveInt = (max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, `must be between 1 and ${max}`)
    .max(max, `must be between 1 and ${max}`);

const url = (protocols: string[], example: string) =>
  z
    .string()
    .trim()
    .refine((value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, `must be a URL like ${example}`);

const pathList = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(delimiter)
      .map((entry) => entry.trim())
      .filter((entry) => entry.length > 0)
      .map((entry) => resolve(entry)),
  );

/** Every environment variable WebGuard reads, with its default. Nothing else reads process.env. */
export const EnvSchema = z.object({
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  PORT: port.default(8000),
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'postgres://user@127.0.0.1:5432/webguard')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  REDIS_URL: url(['redis:', 'rediss:'], 'redis://127.0.0.1:6379').default('redis://127.0.0.1:6379'),
  WEBGUARD_HOME: z
    .string()
    .trim()
    .min(1)
    .refine(isAbsolute, 'must be an absolute path')
    .default(join(homedir(), '.webguard')),
  WEBGUARD_QUEUE_PREFIX: z
    .string()
    .regex(/^[\w:-]+$/, 'may contain only letters, digits, _, - and :')
    .default('webguard'),
  WEBGUARD_SKILLS_PATHS: pathList,
  WEBGUARD_BODY_LIMIT: positiveInt(100 * 1024 * 1024).default(1024 * 1024),
  WEBGUARD_CONCURRENCY_BROWSER: positiveInt(500).default(2),
  WEBGUARD_CONCURRENCY_API: positiveInt(500).default(10),
  WEBGUARD_CONCURRENCY_DATA: positiveInt(500).default(5),
  WEBGUARD_CONCURRENCY_PERFORMANCE: positiveInt(500).default(1),
  WEBGUARD_CONCURRENCY_SECURITY: positiveInt(500).default(5),
  WEBGUARD_CONCURRENCY_EXECUTIONS: positiveInt(500).default(5),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
});
export type Env = z.infer<typeof EnvSchema>;

export interface Config {
  host: string;
  port: number;
  /** PostgreSQL URL; absent means the embedded PGlite database under `home`. */
  databaseUrl: string | undefined;
  redisUrl: string;
  /** Data folder: embedded database, private Redis, logs. */
  home: string;
  queuePrefix: string;
  /** Extra skill folders besides the built-in `skills/`. */
  skillPaths: string[];
  bodyLimit: number;
  /** Default worker concurrency per queue. */
  concurrency: {
    browser: number;
    api: number;
    data: number;
    performance: number;
    security: number;
    executions: number;
  };
  logLevel: (typeof LOG_LEVELS)[number];
}

/** A bad configuration, with one line per bad value. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((line) => `  ${line}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function quote(value: string | undefined): string {
  return value === undefined ? 'unset' : JSON.stringify(value);
}

/** Parses the environment once at start; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(environment)');
      return `${name}: ${issue.message} (got ${quote(env[name])})`;
    });
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  return {
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    home: e.WEBGUARD_HOME,
    queuePrefix: e.WEBGUARD_QUEUE_PREFIX,
    skillPaths: e.WEBGUARD_SKILLS_PATHS,
    bodyLimit: e.WEBGUARD_BODY_LIMIT,
    concurrency: {
      browser: e.WEBGUARD_CONCURRENCY_BROWSER,
      api: e.WEBGUARD_CONCURRENCY_API,
      data: e.WEBGUARD_CONCURRENCY_DATA,
      performance: e.WEBGUARD_CONCURRENCY_PERFORMANCE,
      security: e.WEBGUARD_CONCURRENCY_SECURITY,
      executions: e.WEBGUARD_CONCURRENCY_EXECUTIONS,
    },
    logLevel: e.LOG_LEVEL,
  };
}
