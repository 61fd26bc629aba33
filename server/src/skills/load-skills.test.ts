import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SkillInfo, z } from '@webguard/shared';
import { builtinSkillsDir } from './builtin-skills-dir.js';
import { loadSkills, type LoaderLogger } from './load-skills.js';
import { SkillRegistry } from './skill-registry.js';

/** Source of a valid skill named `name`; `extra` is spliced into the definition. */
function skillSource(name: string, extra = ''): string {
  return `import { defineSkill, z } from '@webguard/shared';

interface Greeting { text: string }

export default defineSkill({
  name: '${name}',
  category: 'api',
  version: '1.0.0',
  description: 'says hello',
  params: z.object({ who: z.string().describe('who to greet') }),
  run: (_ctx, params): Greeting => ({ text: 'hello ' + params.who }),
  ${extra}
});
`;
}

describe('loadSkills', () => {
  let root: string;

  const write = async (path: string, source: string): Promise<string> => {
    const file = join(root, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, source);
    return file;
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'webguard-skills-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('compiles a TypeScript skill outside the repo with the same zod as the server', async () => {
    await write('a/hello/helper.ts', "export const greeting: string = 'hello';\n");
    await write(
      'a/hello/skill.ts',
      skillSource('hello')
        .replace("'hello ' + params.who", "greeting + ' ' + params.who")
        .replace(
          "import { defineSkill, z } from '@webguard/shared';",
          "import { defineSkill, z } from '@webguard/shared';\nimport { greeting } from './helper.js';",
        ),
    );

    const { skills, errors } = await loadSkills({ dirs: [join(root, 'a')] });

    expect(errors).toEqual([]);
    expect(skills).toHaveLength(1);
    const [skill] = skills;
    expect(skill?.source).toBe(join(root, 'a', 'hello'));
    expect(skill?.definition.params).toBeInstanceOf(z.ZodType);
    expect(SkillInfo.parse(skill?.info)).toMatchObject({
      name: 'hello',
      category: 'api',
      version: '1.0.0',
      timeout_ms: null,
      source: join(root, 'a', 'hello'),
      params_schema: {
        type: 'object',
        properties: { who: { type: 'string', description: 'who to greet' } },
      },
    });
    expect(skill?.definition.run({} as never, { who: 'you' })).toEqual({ text: 'hello you' });
  });

  it('accepts skill.mjs with a named `skill` export and ignores folders without a skill file', async () => {
    await write(
      'a/plain/skill.mjs',
      `import { defineSkill, z } from '@webguard/shared';
export const skill = defineSkill({ name: 'plain', category: 'data', version: '2.0.0', description: 'js', params: z.object({}), run: () => {} });
`,
    );
    await write('a/docs/README.md', '# not a skill\n');

    const { skills, errors } = await loadSkills({ dirs: [join(root, 'a')] });
    expect(errors).toEqual([]);
    expect(skills.map((skill) => skill.info.name)).toEqual(['plain']);
  });

  it('reports each broken skill with the file and the reason, and loads the rest', async () => {
    await write('a/good/skill.ts', skillSource('good'));
    const syntax = await write(
      'a/syntax/skill.ts',
      "import { z } from '@webguard/shared';\nexport default {{ ;\n",
    );
    const throws = await write(
      'a/throws/skill.ts',
      "const ready = false;\nif (!ready) throw new Error('database not configured');\n",
    );
    const shape = await write(
      'a/shape/skill.ts',
      skillSource('shape')
        .replace("version: '1.0.0'", "version: 'one'")
        .replace("category: 'api'", "category: 'ui'"),
    );
    const noExport = await write('a/no-export/skill.ts', 'export const unrelated = 1;\n');
    const mismatch = await write('a/mismatch/skill.ts', skillSource('other-name'));
    const notZod = await write(
      'a/not-zod/skill.ts',
      skillSource('not-zod').replace(/params: z\.object\(.*\),/, 'params: { who: "string" },'),
    );

    const warnings: string[] = [];
    const logger: LoaderLogger = {
      info: () => undefined,
      warn: (_obj, msg) => warnings.push(msg ?? ''),
      error: () => undefined,
    };
    const { skills, errors } = await loadSkills({ dirs: [join(root, 'a')], logger });

    expect(skills.map((skill) => skill.info.name)).toEqual(['good']);
    const byFolder = Object.fromEntries(
      errors.map((error) => [error.source.split('/').at(-1), error]),
    );
    expect(Object.keys(byFolder).sort()).toEqual([
      'mismatch',
      'no-export',
      'not-zod',
      'shape',
      'syntax',
      'throws',
    ]);

    expect(byFolder['syntax']).toMatchObject({ name: null });
    expect(byFolder['syntax']?.message).toMatch(
      new RegExp(`^${syntax} could not be loaded: .*Unexpected token`),
    );
    expect(byFolder['throws']?.message).toBe(
      `${throws} could not be loaded: database not configured (line 2)`,
    );
    expect(byFolder['shape']).toMatchObject({ name: 'shape' });
    expect(byFolder['shape']?.message).toMatch(new RegExp(`^${shape} is not a valid skill: `));
    expect(byFolder['shape']?.message).toContain('category: ');
    expect(byFolder['shape']?.message).toContain('version: must be a semantic version like 1.0.0');
    expect(byFolder['no-export']?.message).toBe(
      `${noExport} exports no skill: use "export default defineSkill({...})"`,
    );
    expect(byFolder['mismatch']).toEqual({
      source: join(root, 'a', 'mismatch'),
      name: 'other-name',
      message: `${mismatch} defines skill "other-name" version 1.0.0 but its folder is "mismatch": name the folder "other-name" or "other-name@1.0.0"`,
    });
    expect(byFolder['not-zod']?.message).toBe(
      `${notZod} is not a valid skill: params: must be a zod schema (import { z } from "@webguard/shared")`,
    );
    expect(warnings).toHaveLength(6);
  });

  it('keeps the first of two skills with the same name and version and reports the later one', async () => {
    await write('first/dup/skill.ts', skillSource('dup'));
    await write('second/dup/skill.ts', skillSource('dup'));

    const { skills, errors } = await loadSkills({
      dirs: [join(root, 'first'), join(root, 'second')],
    });

    expect(skills.map((skill) => skill.source)).toEqual([join(root, 'first', 'dup')]);
    expect(errors).toEqual([
      {
        source: join(root, 'second', 'dup'),
        name: 'dup',
        message: `skill "dup" version 1.0.0 from ${join(root, 'second', 'dup')} duplicates the one from ${join(root, 'first', 'dup')}; the first one is kept`,
      },
    ]);
  });

  it('keeps every version of a skill and finds the one a case pins', async () => {
    const version = (v: string) =>
      skillSource('greet').replace("version: '1.0.0'", `version: '${v}'`);
    await write('a/greet/skill.ts', version('2.1.0'));
    await write('a/greet@1.4.2/skill.ts', version('1.4.2'));
    await write('b/greet@1.5.0/skill.ts', version('1.5.0'));
    await write('b/greet@9.9.9/skill.ts', version('1.0.0'));

    const registry = new SkillRegistry({ dirs: [join(root, 'a'), join(root, 'b')] });
    await registry.load();

    expect(registry.versions('greet')).toEqual(['2.1.0', '1.5.0', '1.4.2']);
    expect(registry.get('greet')?.info.version).toBe('2.1.0');
    expect(registry.get('greet', '^1')?.info.version).toBe('1.5.0');
    expect(registry.get('greet', '1.4.2')?.source).toBe(join(root, 'a', 'greet@1.4.2'));
    expect(registry.find('greet', '^3')).toEqual({
      ok: false,
      reason: 'skill "greet" has no version matching "^3" (installed: 2.1.0, 1.5.0, 1.4.2)',
    });
    expect(registry.list().map((skill) => skill.info.version)).toEqual(['2.1.0']);
    expect(registry.errors().map((error) => error.message)).toEqual([
      expect.stringContaining('but its folder is "greet@9.9.9"'),
    ]);
  });

  it('reports a configured folder that does not exist or is a file', async () => {
    const missing = join(root, 'missing');
    const file = await write('file.txt', 'not a folder');
    const { skills, errors } = await loadSkills({ dirs: [missing, file] });
    expect(skills).toEqual([]);
    expect(errors).toEqual([
      {
        source: missing,
        name: null,
        message: `skill folder ${missing} cannot be read: it does not exist`,
      },
      {
        source: file,
        name: null,
        message: `skill folder ${file} cannot be read: it is not a folder`,
      },
    ]);
  });

  it('loads the built-in http-check skill with its params as JSON Schema', async () => {
    const dir = builtinSkillsDir();
    const { skills, errors } = await loadSkills({ dirs: [dir] });

    expect(errors).toEqual([]);
    const httpCheck = skills.find((skill) => skill.info.name === 'http-check');
    expect(httpCheck?.info).toMatchObject({
      category: 'api',
      version: '1.0.0',
      source: join(dir, 'http-check'),
    });
    const schema = httpCheck?.info.params_schema as {
      properties: Record<string, { description?: string }>;
      required: string[];
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining([
        'url',
        'method',
        'headers',
        'body',
        'json',
        'expected_status',
        'max_latency_ms',
        'assertions',
        'body_contains',
        'timeout_ms',
      ]),
    );
    for (const [field, property] of Object.entries(schema.properties)) {
      expect(property.description, `${field} has a description`).toBeTruthy();
    }
    expect(schema.required).toEqual(['url']);
  });
});

describe('builtinSkillsDir', () => {
  it('finds the repo skills folder from the source and from a built file', () => {
    const fromSource = builtinSkillsDir();
    expect(fromSource).toMatch(/\/skills$/);
    const repo = dirname(fromSource);
    expect(builtinSkillsDir(join(repo, 'server', 'dist', 'skills', 'builtin-skills-dir.js'))).toBe(
      fromSource,
    );
  });

  it('says where it looked when there is no skills folder', () => {
    expect(() => builtinSkillsDir('/nowhere/file.js')).toThrow(
      'the built-in skills folder (skills/http-check) was not found above /nowhere/file.js',
    );
  });
});

describe('SkillRegistry', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'webguard-registry-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const writeSkill = async (folder: string, source: string): Promise<void> => {
    await mkdir(join(root, folder), { recursive: true });
    await writeFile(join(root, folder, 'skill.ts'), source);
  };

  it('lists skills by name and looks them up', async () => {
    await writeSkill('zeta', skillSource('zeta'));
    await writeSkill('alpha', skillSource('alpha'));
    const registry = new SkillRegistry({ dirs: [root] });
    await registry.load();

    expect(registry.list().map((skill) => skill.info.name)).toEqual(['alpha', 'zeta']);
    expect(registry.get('alpha')?.info.name).toBe('alpha');
    expect(registry.get('missing')).toBeUndefined();
    expect(registry.errors()).toEqual([]);
  });

  it('picks up edits, new skills and new errors on reload', async () => {
    await writeSkill('alpha', skillSource('alpha'));
    const registry = new SkillRegistry({ dirs: [root] });
    await registry.load();
    expect(registry.get('alpha')?.info.version).toBe('1.0.0');

    await writeSkill('alpha', skillSource('alpha').replace("version: '1.0.0'", "version: '1.1.0'"));
    await writeSkill('beta', skillSource('beta'));
    await writeSkill('broken', 'export default 42;\n');
    await Promise.all([registry.load(), registry.load()]);

    expect(registry.get('alpha')?.info.version).toBe('1.1.0');
    expect(registry.list().map((skill) => skill.info.name)).toEqual(['alpha', 'beta']);
    expect(registry.errors()).toEqual([
      expect.objectContaining({ source: join(root, 'broken'), name: null }),
    ]);
  });

  it('validates params with one issue per bad field', async () => {
    await writeSkill(
      'typed',
      skillSource('typed').replace(
        "z.object({ who: z.string().describe('who to greet') })",
        'z.object({ expected_status: z.number(), headers: z.record(z.string(), z.string()), items: z.array(z.object({ id: z.number() })) })',
      ),
    );
    const registry = new SkillRegistry({ dirs: [root] });
    await registry.load();

    expect(
      registry.validateParams('typed', { expected_status: 200, headers: {}, items: [] }),
    ).toEqual({
      ok: true,
      params: { expected_status: 200, headers: {}, items: [] },
    });
    const result = registry.validateParams('typed', {
      expected_status: '200',
      headers: { Accept: 1 },
      items: [{ id: 'x' }],
    });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues.map((issue) => issue.path)).toEqual([
      'expected_status',
      'headers.Accept',
      'items[0].id',
    ]);
    expect(registry.validateParams('typed', 'nope')).toEqual({
      ok: false,
      issues: [{ path: '(root)', message: expect.stringContaining('expected object') }],
    });
    expect(registry.validateParams('missing', {})).toEqual({
      ok: false,
      issues: [{ path: '(root)', message: 'unknown skill "missing"' }],
    });
  });
});
