import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../test/fixtures/skills', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'wg-skill-run-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Runs `webguard` as a user would and collects what it prints. */
function webguard(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env['PATH'] ?? '', HOME: home, WEBGUARD_HOME: home, LOG_LEVEL: 'warn' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('webguard skill run', () => {
  it('runs a skill folder with params from a file and prints its steps, logs and result', async () => {
    const params = join(home, 'echo.json');
    writeFileSync(params, JSON.stringify({ message: 'from the terminal' }));
    const run = await webguard(['skill', 'run', join(FIXTURES, 'echo'), '--params', params]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^▶ echo \(echo\)\n/);
    expect(run.stdout).toContain('  [info] from the terminal {"echoed":"from the terminal"}');
    expect(run.stdout).toMatch(/ {2}✓ say from the terminal \(\d+ ms\)/);
    expect(run.stdout).toMatch(/✔ passed/);
  });

  it('exits 1 with the failure when the skill fails, and 2 for a bad params file', async () => {
    const failed = await webguard(['skill', 'run', join(FIXTURES, 'fail')]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('✖ failed (assertion): expected failure');

    const broken = join(home, 'broken.json');
    writeFileSync(broken, '{"message": ');
    const bad = await webguard(['skill', 'run', join(FIXTURES, 'echo'), '--params', broken]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/the params file .*broken.json is not JSON/);

    const none = await webguard(['skill', 'run', home]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('holds no skill');
  });
});
