import { RedisUnavailableError } from './errors.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function parseRedisUrl(url: string): URL {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (parsed?.protocol !== 'redis:' && parsed?.protocol !== 'rediss:') {
    throw new RedisUnavailableError(
      `REDIS_URL must look like redis://host:port or rediss://host:port, not "${redactUrl(url)}".`,
    );
  }
  return parsed;
}

export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

export function redisPort(url: URL): number {
  return url.port === '' ? 6379 : Number(url.port);
}

/** The URL with its password masked, for logs and error messages. */
export function redactUrl(url: string): string {
  if (!URL.canParse(url)) return url.replace(/\/\/[^@/]*@/, '//***@');
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}
