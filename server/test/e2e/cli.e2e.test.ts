import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/postgres.js';
import { closedPort } from '../support/closed-port.js';
import { TEST_REDIS_URL, uniqueQueuePrefix } from '../support/redis.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'wg-cli-'));

/** Runs `webguard` as a user would, with only the environment given. */
function webguard(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      WEBGUARD_HOME: home,
      LOG_LEVEL: 'warn',
      ...env,
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('webguard CLI', () => {
  it('prints its roles in --help', () => {
    const { code, stdout } = webguard(['--help']);
    expect(code).toBe(0);
    for (const role of ['start', 'api', 'worker', 'migrate']) expect(stdout).toContain(role);
  });

  it('exits 2 with one line per bad setting', () => {
    const { code, stderr } = webguard(['start'], { PORT: 'x', REDIS_URL: 'http://nope' });
    expect(code).toBe(2);
    expect(stderr).toContain('Invalid configuration:');
    expect(stderr).toContain('PORT: must be a number (got "x")');
    expect(stderr).toMatch(/REDIS_URL: must be a URL like redis:\/\/127\.0\.0\.1:6379/);
  });

  it('exits 2 on an unknown queue or a bad concurrency', () => {
    const queues = webguard(['worker', '--queues', 'api,gpu']);
    expect(queues.code).toBe(2);
    expect(queues.stderr).toContain('unknown queue gpu');
    const concurrency = webguard(['worker', '--concurrency', '0']);
    expect(concurrency.code).toBe(2);
    expect(concurrency.stderr).toContain('must be a whole number from 1 to 500');
  });

  it('exits 3 with how to get Redis when none answers and none can be started', async () => {
    const port = await closedPort();
    // A PATH without redis-server: WebGuard cannot start a private one.
    const { code, stderr } = webguard(['api'], {
      PATH: '/nonexistent',
      REDIS_URL: `redis://127.0.0.1:${port}`,
      PORT: String(await closedPort()),
    });
    expect(code).toBe(3);
    expect(stderr).toContain(`Redis is not reachable at redis://127.0.0.1:${port}`);
    expect(stderr).toMatch(/install Redis/i);
  });

  it('exits 3 naming the port when it is already taken', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { code, stderr } = webguard(['api'], {
        PORT: String(port),
        WEBGUARD_QUEUE_PREFIX: uniqueQueuePrefix(),
        REDIS_URL: TEST_REDIS_URL,
      });
      expect(code).toBe(3);
      expect(stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('applies migrations with `migrate`, twice without harm', async () => {
    const database = await createTestDatabase();
    try {
      expect(webguard(['migrate'], { DATABASE_URL: database.url }).code).toBe(0);
      const again = webguard(['migrate'], { DATABASE_URL: database.url });
      expect(again.code).toBe(0);
    } finally {
      await database.drop();
    }
  });
});
