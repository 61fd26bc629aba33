import { randomBytes } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { InvalidArgumentError, type Command } from 'commander';
import { CreateApiTokenBody, CreateUserBody, USER_ROLES, UserRole } from '@webguard/shared';
import type { AuthService } from '../auth/index.js';
import { ConfigError, loadConfig } from '../config.js';
import type { AuthRepository } from '../db/index.js';
import { AppError } from '../errors.js';
import { createLogger } from '../runtime/logger.js';
import { loadSecretKey } from '../runtime/secret-key.js';

/** Same contract as the rest of the CLI: 2 usage/config, 3 infrastructure. */
const EXIT_USAGE = 2;
const EXIT_INFRASTRUCTURE = 3;

function parseRole(value: string): UserRole {
  const parsed = UserRole.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(`choose one of ${USER_ROLES.join(', ')}`);
  return parsed.data;
}

/** `project:role`, e.g. `default:tester` or `3:viewer`. */
function parseMembership(value: string, previous: { project: string; role: UserRole }[]) {
  const [project, role] = value.split(':');
  if (!project || !role)
    throw new InvalidArgumentError(
      'give a project and a role as PROJECT:ROLE, e.g. default:tester',
    );
  return [...previous, { project, role: parseRole(role) }];
}

function parseDays(value: string): number | null {
  if (value === 'never') return null;
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1 || days > 3650)
    throw new InvalidArgumentError('must be a whole number of days from 1 to 3650, or "never"');
  return days;
}

/**
 * Runs an administrative action straight against the database this machine's configuration
 * points at (as `migrate` does): for the first users and CI tokens, before anyone can sign in.
 */
async function withAccounts(
  action: (auth: AuthService, accounts: AuthRepository) => Promise<void>,
): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  // The database drivers load only for these commands, not for every CLI start.
  const { AuthRepository, DataDirLockedError, openDatabase } = await import('../db/index.js');
  const { AuthService, TokenSigner } = await import('../auth/index.js');
  let database;
  try {
    database = await openDatabase({ databaseUrl: config.databaseUrl, home: config.home });
    await database.migrate();
  } catch (error) {
    await database?.close();
    process.stderr.write(
      `${error instanceof DataDirLockedError ? error.message : `the database is unavailable: ${error instanceof Error ? error.message : String(error)}`}\n`,
    );
    process.exitCode = EXIT_INFRASTRUCTURE;
    return;
  }
  try {
    const accounts = new AuthRepository(database.db);
    const signer = new TokenSigner(loadSecretKey(config), {
      access: config.auth.accessTokenTtl,
      refresh: config.auth.refreshTokenTtl,
    });
    await action(new AuthService(accounts, signer, createLogger(config, 'cli')), accounts);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = EXIT_USAGE;
  } finally {
    await database.close();
  }
}

async function projectId(accounts: AuthRepository, project: string): Promise<number> {
  const found = await accounts.findProject(/^\d+$/.test(project) ? Number(project) : project);
  if (!found) throw new AppError(404, 'NOT_FOUND', `project "${project}" does not exist`);
  return found.id;
}

/** A zod failure as one line per field. */
function invalid(issues: { path: PropertyKey[]; message: string }[]): never {
  throw new AppError(
    400,
    'VALIDATION_FAILED',
    issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`).join('\n'),
  );
}

export function registerAdminCommands(program: Command): void {
  const user = program.command('user').description('Manage users (on this server’s database).');
  user
    .command('create')
    .description('Create a user; prints a generated password unless --password-stdin is given.')
    .requiredOption('--email <address>', 'e-mail address, used to sign in')
    .option('--name <name>', 'display name')
    .option('--admin', 'administrator of every project', false)
    .option(
      '--role <project:role>',
      'role in a project, e.g. default:tester (repeatable)',
      parseMembership,
      [],
    )
    .option('--password-stdin', 'read the password from standard input', false)
    .action(
      async (options: {
        email: string;
        name?: string;
        admin: boolean;
        role: { project: string; role: UserRole }[];
        passwordStdin: boolean;
      }) =>
        withAccounts(async (auth, accounts) => {
          const password = options.passwordStdin
            ? (await text(process.stdin)).replace(/\r?\n$/, '')
            : randomBytes(18).toString('base64url');
          const memberships = [];
          for (const membership of options.role)
            memberships.push({
              project_id: await projectId(accounts, membership.project),
              role: membership.role,
            });
          const body = CreateUserBody.safeParse({
            email: options.email,
            name: options.name ?? null,
            password,
            is_admin: options.admin,
            memberships,
          });
          if (!body.success) invalid(body.error.issues);
          const created = await auth.createUser(body.data);
          process.stdout.write(`created user ${created.id} ${created.email}\n`);
          if (!options.passwordStdin) process.stdout.write(`password (shown once): ${password}\n`);
        }),
    );

  const token = program
    .command('token')
    .description('Manage API tokens (on this server’s database).');
  token
    .command('create')
    .description('Create an API token for one project and print it (shown once).')
    .requiredOption('--name <name>', 'what the token is for, e.g. "github-actions"')
    .option('--project <slug|id>', 'the project it acts in', 'default')
    .option('--role <role>', `its role: ${USER_ROLES.join(', ')}`, parseRole, 'tester' as UserRole)
    .option('--expires-days <days>', 'days until it expires, or "never"', parseDays, 90)
    .option('--json', 'print the token record as JSON', false)
    .action(
      async (options: {
        name: string;
        project: string;
        role: UserRole;
        expiresDays: number | null;
        json: boolean;
      }) =>
        withAccounts(async (auth, accounts) => {
          const body = CreateApiTokenBody.safeParse({
            name: options.name,
            project_id: await projectId(accounts, options.project),
            role: options.role,
            expires_in_days: options.expiresDays,
          });
          if (!body.success) invalid(body.error.issues);
          const created = await auth.createToken(body.data, null);
          if (options.json) process.stdout.write(`${JSON.stringify(created)}\n`);
          else
            process.stdout.write(
              `${created.token}\n(token ${created.id} "${created.name}", ${created.role} in project ${options.project}, ${created.expires_at ? `expires ${created.expires_at}` : 'never expires'}; shown once)\n`,
            );
        }),
    );
}
