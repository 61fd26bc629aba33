#!/usr/bin/env node
import closeWithGrace from 'close-with-grace';
import { Command, InvalidArgumentError } from 'commander';
import { registerAdminCommands } from './cli/admin-commands.js';
import { registerRunCommand } from './cli/run-command.js';
import { registerSkillCommands } from './cli/skill-commands.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { QUEUE_NAMES, WORKER_QUEUES, isQueueName, type QueueName } from './queues/job-catalog.js';
import { createLogger } from './runtime/logger.js';
import type { Runtime, RuntimeRoles } from './runtime/runtime.js';
import { VERSION } from './runtime/version.js';

/** Exit codes: 0 ok, 2 usage or configuration error, 3 infrastructure unavailable. */
const EXIT_USAGE = 2;
const EXIT_INFRASTRUCTURE = 3;

function parseQueues(value: string): QueueName[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !isQueueName(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(
      `unknown queue ${unknown.join(', ') || '(none)'}; choose from ${QUEUE_NAMES.join(', ')}`,
    );
  }
  return names as QueueName[];
}

function parseConcurrency(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 500)
    throw new InvalidArgumentError('must be a whole number from 1 to 500');
  return n;
}

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(EXIT_USAGE);
    }
    throw error;
  }
}

/** One line a person can act on for the ways start-up commonly fails; the raw error otherwise. */
async function startFailure(error: unknown, config: Config): Promise<string> {
  const { DataDirLockedError } = await import('./db/index.js');
  const { RedisUnavailableError } = await import('./redis/index.js');
  if (error instanceof RedisUnavailableError || error instanceof DataDirLockedError)
    return error.message;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return `Port ${config.port} on ${config.host} is already in use (another WebGuard?): stop that process or set PORT.`;
  }
  if (code === 'EADDRNOTAVAIL')
    return `HOST ${config.host} is not an address of this machine: set HOST.`;
  return `WebGuard could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
}

/** Starts a long-running role and owns its shutdown: SIGINT/SIGTERM drain, then close in order. */
async function serve(role: string, roles: RuntimeRoles): Promise<void> {
  const config = configOrExit();
  const logger = createLogger(config, role);
  let runtime: Runtime | undefined;
  // A skill that forgets to await a promise must not take down every case on this worker.
  process.on('unhandledRejection', (reason) =>
    logger.error(
      { err: reason },
      'unhandled promise rejection (usually a skill that did not await); still running',
    ),
  );
  closeWithGrace(
    { delay: 30_000, skip: ['unhandledRejection'], logger },
    async ({ signal, err }) => {
      if (err) logger.error({ err }, 'fatal error; shutting down');
      else logger.info({ signal }, 'shutting down');
      await runtime?.close();
    },
  );
  try {
    // Loaded here, not at the top: the runtime pulls in everything (browser, S3, tracing), and
    // commands such as `webguard run` in a CI job should start in a blink.
    const { startRuntime } = await import('./runtime/runtime.js');
    runtime = await startRuntime(config, roles, logger);
  } catch (error) {
    process.stderr.write(`${await startFailure(error, config)}\n`);
    process.exit(EXIT_INFRASTRUCTURE);
  }
  if (runtime.url) {
    process.stdout.write(
      `WebGuard ${VERSION} (${role}) is running at ${runtime.url} — API docs at ${runtime.url}/docs\n`,
    );
  }
}

const program = new Command()
  .name('webguard')
  .description('WebGuard: run browser, API, performance, security and data checks on a cluster.')
  .version(VERSION)
  .showHelpAfterError()
  // Set before the subcommands are added so they inherit it: every usage error exits 2.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE));

program
  .command('start')
  .description(
    'Run everything in one process: API, all workers and the scheduler (the local default).',
  )
  .action(() => serve('start', { api: true, workers: WORKER_QUEUES, scheduler: true }));

program
  .command('api')
  .description('Serve the REST API only.')
  .action(() => serve('api', { api: true, workers: [] }));

program
  .command('worker')
  .description('Run cases from the given queues.')
  .option('--queues <names>', `comma-separated queues (${QUEUE_NAMES.join(', ')})`, parseQueues, [
    ...WORKER_QUEUES,
  ])
  .option(
    '--concurrency <n>',
    'jobs run at once per queue (default: per-queue config)',
    parseConcurrency,
  )
  .action((options: { queues: QueueName[]; concurrency?: number }) =>
    serve('worker', { api: false, workers: options.queues, concurrency: options.concurrency }),
  );

program
  .command('scheduler')
  .description('Keep cron schedules in step with the suites and start the runs they fire.')
  .action(() => serve('scheduler', { api: false, workers: [], scheduler: true }));

program
  .command('migrate')
  .description('Apply database migrations and exit.')
  .action(async () => {
    const config = configOrExit();
    const logger = createLogger(config, 'migrate');
    const { openDatabase } = await import('./db/index.js');
    const database = await openDatabase({ databaseUrl: config.databaseUrl, home: config.home });
    try {
      await database.migrate();
      logger.info({ database: database.kind, location: database.location }, 'migrations applied');
    } finally {
      await database.close();
    }
  });

registerSkillCommands(program);
registerRunCommand(program);
registerAdminCommands(program);

await program.parseAsync(process.argv);
