import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import {
  findExecutable,
  startEmbeddedRedis,
  type EmbeddedRedisServer,
} from '../../src/redis/embedded-redis-server.js';
import { freePort } from './redis-helpers.js';
import { waitFor } from './wait-for.js';

/** The built CLI, as operators run it. */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface RoleProcess {
  child: ChildProcess;
  /** What the process wrote to stderr so far (its warnings and errors). */
  stderr(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<number | NodeJS.Signals | null>;
}

/**
 * WebGuard roles as separate OS processes (`node server/dist/cli.js <role>`), stopped together.
 * Every process gets `env` on top of a bare PATH and HOME, so nothing leaks in from the test's
 * own environment.
 */
export class RoleProcesses {
  private readonly running: RoleProcess[] = [];

  constructor(private readonly env: () => Record<string, string>) {}

  spawn(args: string[], extraEnv: Record<string, string> = {}): RoleProcess {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      ...this.env(),
      ...extraEnv,
    };
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { HOME: env.WEBGUARD_HOME ?? tmpdir(), ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
      child.once('exit', (code, signal) => resolve(code ?? signal)),
    );
    const role: RoleProcess = { child, stderr: () => stderr, exited };
    this.running.push(role);
    return role;
  }

  /** Starts an API process on a free port and resolves with its base URL once it answers. */
  async spawnApi(extraEnv: Record<string, string> = {}): Promise<RoleProcess & { url: string }> {
    const port = await freePort();
    const role = this.spawn(['api'], { ...extraEnv, HOST: '127.0.0.1', PORT: String(port) });
    const url = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => {
        if (role.child.exitCode !== null)
          throw new Error(`webguard api exited ${role.child.exitCode}: ${role.stderr()}`);
        try {
          return (await fetch(`${url}/healthz`)).ok ? true : undefined;
        } catch {
          return undefined;
        }
      },
      { what: `webguard api on port ${port}`, timeoutMs: 30_000 },
    );
    return { ...role, url };
  }

  /** SIGTERM to every process (SIGCONT first, in case one was stopped), then waits for them. */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.running.splice(0).map(async ({ child, exited }) => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGCONT');
          child.kill('SIGTERM');
        }
        await exited;
      }),
    );
  }
}

export interface PrivateRedis {
  url: string;
  /** Stops the server (its append-only file is flushed, so the data survives a restart). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data folder (a no-op while it runs). */
  start(): Promise<void>;
  /** Stops it and deletes its data folder. */
  destroy(): Promise<void>;
}

/**
 * A redis-server of the test's own, on a free port with AOF on, that the test may stop and
 * restart without disturbing the machine's shared Redis.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const redisServerPath = await findExecutable('redis-server', process.env.PATH ?? '');
  if (!redisServerPath)
    throw new Error('redis-server is not on the PATH (apt-get install redis-server)');
  const dir = await mkdtemp(join(tmpdir(), 'wg-private-redis-'));
  const port = await freePort();
  const logger = pino({ level: 'silent' });
  let server: EmbeddedRedisServer | undefined;
  const start = async () => {
    if (server) return;
    server = await startEmbeddedRedis({ redisServerPath, dir, port, logger });
  };
  const stop = async () => {
    await server?.stop();
    server = undefined;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
