import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SkillList } from '@webguard/shared';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'wg-skill-cli-'));

/** Runs `webguard` as a user would, with only the environment given. */
function webguard(args: string[], cwd = home) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: home, WEBGUARD_HOME: home, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('webguard skill new', () => {
  it('scaffolds a skill folder that the loader accepts and whose own test passes', () => {
    const dir = join(home, 'mine');
    const created = webguard([
      'skill',
      'new',
      'login-check',
      '--category',
      'security',
      '--dir',
      dir,
    ]);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const folder = join(dir, 'login-check');
    expect(created.stdout).toBe(
      `Created skill "login-check" in ${folder}:\n` +
        ['skill.ts', 'params.ts', 'skill.test.ts', 'README.md']
          .map((file) => `  ${join(folder, file)}\n`)
          .join(''),
    );
    const skill = readFileSync(join(folder, 'skill.ts'), 'utf8');
    expect(skill).toContain("name: 'login-check',");
    expect(skill).toContain("category: 'security',");
    expect(readFileSync(join(folder, 'params.ts'), 'utf8')).toContain(".describe('URL to check')");
    expect(readFileSync(join(folder, 'README.md'), 'utf8')).toMatch(/^# login-check\n/);
    // Outside the repository the test takes the engine from the installed package.
    expect(readFileSync(join(folder, 'skill.test.ts'), 'utf8')).toContain(
      "import { runCase } from '@webguard/server';",
    );

    const listed = webguard(['skill', 'list', '--dir', dir, '--json']);
    expect(listed.code).toBe(0);
    const list = SkillList.parse(JSON.parse(listed.stdout));
    expect(list.errors).toEqual([]);
    expect(list.items.find((item) => item.name === 'login-check')).toMatchObject({
      version: '0.1.0',
      category: 'security',
      source: folder,
    });

    // Run the scaffold's own test with the repository's packages, as an author would.
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const vitest = spawnSync(
      process.execPath,
      [
        join(REPO, 'node_modules', 'vitest', 'vitest.mjs'),
        'run',
        '--root',
        dir,
        '--reporter',
        'dot',
      ],
      { cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } },
    );
    expect(vitest.stdout + vitest.stderr).toMatch(/Tests\s+3 passed/);
    expect(vitest.status).toBe(0);
  }, 180_000);

  it('imports the engine from source when the folder is inside a WebGuard repository', () => {
    const repo = join(home, 'repo');
    mkdirSync(join(repo, 'server', 'src', 'engine'), { recursive: true });
    writeFileSync(join(repo, 'server', 'src', 'engine', 'index.ts'), '');
    mkdirSync(join(repo, 'skills'));
    expect(
      webguard(['skill', 'new', 'inner', '--category', 'api'], join(repo, 'skills')).code,
    ).toBe(0);
    expect(readFileSync(join(repo, 'skills', 'inner', 'skill.test.ts'), 'utf8')).toContain(
      "import { runCase } from '../../server/src/engine/index.js';",
    );
  });

  it('refuses to overwrite a folder, and rejects a bad name or category with exit code 2', () => {
    const dir = join(home, 'twice');
    expect(webguard(['skill', 'new', 'twice', '--category', 'api', '--dir', dir]).code).toBe(0);
    writeFileSync(join(dir, 'twice', 'skill.ts'), '// edited by hand\n');
    const again = webguard(['skill', 'new', 'twice', '--category', 'data', '--dir', dir]);
    expect(again).toMatchObject({
      code: 2,
      stderr: `${join(dir, 'twice')} already exists; pick another name or --dir (nothing was overwritten)\n`,
    });
    expect(readFileSync(join(dir, 'twice', 'skill.ts'), 'utf8')).toBe('// edited by hand\n');

    const name = webguard(['skill', 'new', 'Login_Check', '--category', 'api', '--dir', dir]);
    expect(name.code).toBe(2);
    expect(name.stderr).toContain(
      'skill name "Login_Check" must be lowercase letters, digits and dashes',
    );
    const category = webguard(['skill', 'new', 'ok-name', '--category', 'gpu', '--dir', dir]);
    expect(category.code).toBe(2);
    expect(category.stderr).toContain('choose one of browser, api, data, performance, security');
    const missing = webguard(['skill', 'new', 'ok-name', '--dir', dir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--category <category>' not specified");
  }, 120_000);
});

describe('webguard skill list', () => {
  it('lists the built-in skills in a table', () => {
    const { code, stdout } = webguard(['skill', 'list']);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^Skills \(\d+\) from .*\/skills:\n {2}NAME +VERSION +CATEGORY +SOURCE\n/,
    );
    for (const [name, category] of [
      ['http-check', 'api'],
      ['api-contract', 'api'],
      ['api-flow', 'api'],
      ['load-test', 'performance'],
      ['security-baseline', 'security'],
      ['data-compare', 'data'],
    ])
      expect(stdout).toMatch(
        new RegExp(`\\n {2}${name} +1\\.0\\.0 +${category} +\\S+/skills/${name}\\n`),
      );
    expect(stdout).not.toContain('Rejected');
  });

  it('shows every rejected folder with its reason and exits 1', () => {
    const dir = join(home, 'broken');
    mkdirSync(join(dir, 'no-export'), { recursive: true });
    writeFileSync(join(dir, 'no-export', 'skill.ts'), 'export const unrelated = 1;\n');
    mkdirSync(join(dir, 'wrong-name'));
    writeFileSync(
      join(dir, 'wrong-name', 'skill.ts'),
      "import { defineSkill, z } from '@webguard/shared';\nexport default defineSkill({ name: 'other', category: 'api', version: '1.0.0', description: 'x', params: z.object({}), run: () => {} });\n",
    );

    const { code, stdout } = webguard([
      'skill',
      'list',
      '--dir',
      dir,
      '--dir',
      join(home, 'missing'),
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain('\nRejected (3):\n');
    expect(stdout).toContain(
      `  ${join(home, 'missing')}\n    skill folder ${join(home, 'missing')} cannot be read: it does not exist\n`,
    );
    expect(stdout).toContain(
      `  ${join(dir, 'no-export')}\n    ${join(dir, 'no-export', 'skill.ts')} exports no skill: use "export default defineSkill({...})"\n`,
    );
    expect(stdout).toContain(
      `    ${join(dir, 'wrong-name', 'skill.ts')} defines skill "other" version 1.0.0 but its folder is "wrong-name": name the folder "other" or "other@1.0.0"\n`,
    );
  });
});
