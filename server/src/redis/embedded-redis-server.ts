import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, open, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { withDeadline } from './deadline.js';
import { RedisUnavailableError } from './errors.js';
import { withProbeClient } from './probe.js';

export interface EmbeddedRedisOptions {
  /** The redis-server executable. */
  redisServerPath: string;
  /** Folder for the data, log and pidfile; created when missing. */
  dir: string;
  /** TCP port to listen on, on 127.0.0.1 only. */
  port: number;
  logger: Logger;
  /** How long to wait for the first answer, replaying the append-only file included. Default 15 000 ms. */
  startTimeoutMs?: number;
}

export interface EmbeddedRedisServer {
  readonly url: string;
  readonly pid: number;
  /** Stops the server (SIGTERM, which flushes the append-only file) and resolves once it has exited. */
  stop(): Promise<void>;
}

const POLL_INTERVAL_MS = 100;
const STOP_TIMEOUT_MS = 10_000;
const LOG_TAIL_LINES = 15;

export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** The first executable `name` in the folders of `searchPath` (a PATH value), as `which` finds it. */
export async function findExecutable(
  name: string,
  searchPath: string,
): Promise<string | undefined> {
  for (const dir of searchPath.split(delimiter)) {
    // An empty entry means the working directory; never run a server binary found there.
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Starts redis-server as a child process and resolves once it answers. */
export async function startEmbeddedRedis(
  options: EmbeddedRedisOptions,
): Promise<EmbeddedRedisServer> {
  const { redisServerPath, dir, port, logger, startTimeoutMs = 15_000 } = options;
  const url = `redis://127.0.0.1:${port}`;
  const logFile = join(dir, 'redis.log');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // The log is appended across runs; only what this run wrote explains a failure.
  const logStart = await fileSize(logFile);

  // 1. Spawn. Redis quotes each argument itself, so paths with spaces are safe.
  const child = spawn(
    redisServerPath,
    [
      ...['--port', String(port), '--bind', '127.0.0.1'],
      ...['--dir', dir, '--logfile', logFile, '--pidfile', join(dir, 'redis.pid')],
      // Queued jobs must survive a restart, and BullMQ loses jobs when Redis evicts keys.
      ...['--appendonly', 'yes', '--maxmemory-policy', 'noeviction'],
    ],
    // Its own process group, so Ctrl+C in a terminal cannot stop Redis before the workers drain.
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // Redis writes to stderr only what happens before its log file is open, e.g. a bad argument.
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4096);
  });
  let endedHow: string | undefined;
  const ended = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(`could not be run (${err.message})`));
    child.once('exit', (code, signal) =>
      resolve(signal === null ? `exited with code ${code}` : `was killed by ${signal}`),
    );
  }).then((how) => {
    endedHow = how;
    return how;
  });
  const recentOutput = async () =>
    formatTail(stderr + (await readSince(logFile, logStart)), logFile);

  let exitExpected = true;
  void ended.then(async (how) => {
    if (exitExpected) return;
    logger.error(
      { redisPid: child.pid, output: await recentOutput() },
      `The private Redis ${how} unexpectedly: WebGuard cannot queue or run jobs until it is restarted.`,
    );
  });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      exitExpected = true;
      if (endedHow !== undefined) return;
      child.kill('SIGTERM');
      try {
        await withDeadline(ended, STOP_TIMEOUT_MS, 'Redis shutdown');
      } catch {
        logger.warn(
          { redisPid: child.pid },
          `The private Redis ignored SIGTERM for ${STOP_TIMEOUT_MS} ms; killing it.`,
        );
        child.kill('SIGKILL');
        await ended;
      }
      logger.info({ redisPid: child.pid }, 'Stopped the private Redis.');
    })());

  const { pid } = child;
  if (pid === undefined) {
    throw new RedisUnavailableError(`The private Redis (${redisServerPath}) ${await ended}.`);
  }

  // 2. Wait until this very process answers: another Redis that grabbed the port first must not
  //    pass for ours (ours would then exit with "Address already in use").
  const deadline = Date.now() + startTimeoutMs;
  const probeTimeoutMs = Math.min(1_000, startTimeoutMs);
  while ((await Promise.race([answeringPid(url, probeTimeoutMs), ended])) !== pid) {
    if (endedHow !== undefined) {
      throw new RedisUnavailableError(
        `The private Redis (${redisServerPath}) ${endedHow} before answering.${await recentOutput()}`,
      );
    }
    if (Date.now() >= deadline) {
      await stop();
      throw new RedisUnavailableError(
        `The private Redis (${redisServerPath}) did not answer within ${startTimeoutMs} ms.${await recentOutput()}`,
      );
    }
    await Promise.race([sleep(POLL_INTERVAL_MS), ended]);
  }

  exitExpected = false;
  logger.info({ url, redisPid: pid, dir }, 'Started a private Redis.');
  return { url, pid, stop };
}

async function answeringPid(url: string, timeoutMs: number): Promise<number | undefined> {
  try {
    const info = await withProbeClient(url, timeoutMs, (client) => client.info('server'));
    return Number(/^process_id:(\d+)/m.exec(info)?.[1]);
  } catch {
    return undefined;
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/** What was appended to `file` after `offset`, at most its last 4 KiB. */
async function readSince(file: string, offset: number): Promise<string> {
  try {
    const handle = await open(file);
    try {
      const size = (await handle.stat()).size;
      const from = Math.max(offset, size - 4096);
      const length = Math.max(0, size - from);
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, from);
      return buffer.toString('utf8', 0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

function formatTail(output: string, logFile: string): string {
  const lines = output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-LOG_TAIL_LINES);
  return lines.length === 0
    ? ` It wrote nothing to ${logFile}.`
    : ` Last lines of its output (${logFile}):\n  ${lines.join('\n  ')}`;
}
