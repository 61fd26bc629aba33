import { describe, expect, it } from 'vitest';
import { planFallback } from './fallback-plan.js';
import type { RedisServerLookup } from './fallback-plan.js';
import { RedisUnavailableError } from './errors.js';
import { parseRedisUrl, redactUrl } from './redis-url.js';

const refused = { outcome: 'refused', reason: 'connect ECONNREFUSED' } as const;
const installed: RedisServerLookup = { path: '/usr/bin/redis-server', requested: undefined };

function plan(
  url: string,
  probe = refused as Parameters<typeof planFallback>[1],
  server = installed,
) {
  return planFallback(parseRedisUrl(url), probe, server);
}

function messageOf(result: ReturnType<typeof planFallback>): string {
  if (result.start) throw new Error('expected a refusal');
  expect(result.message).not.toContain('\n');
  return result.message;
}

describe('planFallback', () => {
  it('starts a private Redis on the port of a local URL', () => {
    expect(plan('redis://127.0.0.1:6390')).toEqual({
      start: true,
      redisServerPath: '/usr/bin/redis-server',
      port: 6390,
      url: 'redis://127.0.0.1:6390',
    });
    expect(plan('redis://127.0.0.1')).toMatchObject({ start: true, port: 6379 });
  });

  it('names 127.0.0.1, where the private Redis listens, for localhost and ::1, and keeps the database', () => {
    expect(plan('redis://localhost:6390/2')).toMatchObject({
      start: true,
      url: 'redis://127.0.0.1:6390/2',
    });
    expect(plan('redis://[::1]:6390')).toMatchObject({
      start: true,
      url: 'redis://127.0.0.1:6390',
    });
  });

  it('never starts one for a host that is not this machine', () => {
    const result = plan('redis://10.255.255.1:6379', {
      outcome: 'no-answer',
      reason: 'no answer within 2000 ms',
    });
    expect(messageOf(result)).toBe(
      'Redis is not reachable at redis://10.255.255.1:6379 (no answer within 2000 ms) and WebGuard only starts its own Redis for a local address: start Redis there or set REDIS_URL.',
    );
    expect(plan('redis://redis.internal:6379').start).toBe(false);
    expect(plan('redis://127.0.0.1.example.com:6379').start).toBe(false);
  });

  it('never stands in for a TLS or password-protected Redis, and hides the password', () => {
    expect(messageOf(plan('rediss://127.0.0.1:6379'))).toContain(
      'cannot serve a rediss:// (TLS) URL',
    );
    const message = messageOf(plan('redis://app:s3cret@127.0.0.1:6379'));
    expect(message).toContain('will not stand in for a Redis that needs credentials');
    expect(message).toContain('redis://app:***@127.0.0.1:6379');
    expect(message).not.toContain('s3cret');
  });

  it('does not fight over a port that something else holds', () => {
    const message = messageOf(
      plan('redis://127.0.0.1:6390', { outcome: 'no-answer', reason: 'no answer within 2000 ms' }),
    );
    expect(message).toContain('something holds port 6390 but does not answer as Redis');
  });

  it('says how to install Redis when redis-server is missing', () => {
    expect(
      messageOf(plan('redis://127.0.0.1:6379', refused, { path: undefined, requested: undefined })),
    ).toBe(
      'Redis is not reachable at redis://127.0.0.1:6379 (connect ECONNREFUSED) and no redis-server is on PATH: install Redis (e.g. "apt-get install redis-server" or "brew install redis") or set REDIS_URL.',
    );
    expect(
      messageOf(
        plan('redis://127.0.0.1:6379', refused, {
          path: undefined,
          requested: '/opt/redis/bin/redis-server',
        }),
      ),
    ).toContain(
      'and there is no executable redis-server at /opt/redis/bin/redis-server: install Redis',
    );
  });

  it('points at the credentials when a Redis answers but rejects WebGuard', () => {
    const result = plan('redis://app:wrong@127.0.0.1:6379', {
      outcome: 'rejected',
      reason: 'WRONGPASS invalid password',
    });
    expect(messageOf(result)).toBe(
      'Redis at redis://app:***@127.0.0.1:6379 refused WebGuard (WRONGPASS invalid password): fix the credentials in REDIS_URL or the Redis ACL.',
    );
  });
});

describe('parseRedisUrl', () => {
  it('accepts redis:// and rediss:// URLs only, without echoing a password', () => {
    expect(parseRedisUrl('rediss://example.com:6380').port).toBe('6380');
    expect(() => parseRedisUrl('http://127.0.0.1:6379')).toThrow(RedisUnavailableError);
    expect(() => parseRedisUrl('127.0.0.1:6379')).toThrow(
      /REDIS_URL must look like redis:\/\/host:port/,
    );
    expect(() => parseRedisUrl('redis//:s3cret@host')).toThrow('not "redis//***@host".');
  });

  it('redacts only the password', () => {
    expect(redactUrl('redis://:pw@127.0.0.1:6379/1')).toBe('redis://:***@127.0.0.1:6379/1');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});
