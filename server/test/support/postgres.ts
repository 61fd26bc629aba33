import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The machine's PostgreSQL as a superuser; tests create and drop their own databases in it. */
export const ADMIN_URL =
  process.env.WEBGUARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Test databases are named `wg_test_<creation time, base 36>_<random>`. */
const PREFIX = 'wg_test_';
/**
 * A test database older than this was left by a run that was killed before it could drop it
 * (a test or bench stopped with SIGKILL, a CI job timed out): no run lasts this long.
 */
const STALE_AFTER_MS = 3 * 3600_000;

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** When a test database was created, from its name; undefined for other names. */
function createdAt(name: string): number | undefined {
  const match = /^wg_test_([0-9a-z]+)_[0-9a-f]+$/.exec(name);
  return match ? parseInt(match[1]!, 36) : undefined;
}

let sweep: Promise<void> | undefined;

/** Drops the test databases that killed runs left behind, once per process. */
function dropStaleDatabases(): Promise<void> {
  sweep ??= withAdmin(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE '${PREFIX}%'`,
    );
    const now = Date.now();
    for (const { datname } of rows) {
      const created = createdAt(datname);
      if (created !== undefined && now - created > STALE_AFTER_MS)
        await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    }
  });
  return sweep;
}

/** A fresh, empty database for one test file, so runs never see each other's rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  await dropStaleDatabases();
  const name = `${PREFIX}${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await withAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
