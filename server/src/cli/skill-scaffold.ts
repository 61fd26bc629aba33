import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { SKILL_CATEGORIES, SkillDefinitionShape, type SkillCategory } from '@webguard/shared';

export interface ScaffoldOptions {
  name: string;
  category: SkillCategory;
  /** The folder the skill's own folder is created in. */
  dir: string;
}

export class ScaffoldError extends Error {
  override name = 'ScaffoldError';
}

/** The same rule the loader applies, so a scaffolded skill always loads. */
export function checkSkillName(name: string): string | undefined {
  const result = SkillDefinitionShape.shape.name.safeParse(name);
  return result.success
    ? undefined
    : `skill name "${name}" ${result.error.issues[0]?.message ?? 'is not valid'}`;
}

export function isSkillCategory(value: string): value is SkillCategory {
  return (SKILL_CATEGORIES as readonly string[]).includes(value);
}

/**
 * Where the skill's test imports the engine from: inside the WebGuard repository, the engine's
 * source (as the built-in skills do); anywhere else, the installed `@webguard/server` package.
 */
function engineImport(skillFolder: string): string {
  for (let dir = skillFolder; ; dir = dirname(dir)) {
    const engine = join(dir, 'server', 'src', 'engine', 'index.ts');
    if (existsSync(engine)) {
      const path = relative(skillFolder, engine).split(sep).join('/').replace(/\.ts$/, '.js');
      return path.startsWith('.') ? path : `./${path}`;
    }
    if (dirname(dir) === dir) return '@webguard/server';
  }
}

const paramsSource = () => `import { z } from '@webguard/shared';

/** Checked before a case is saved and again before it runs; each description is a form label. */
export const Params = z.object({
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
    .describe('URL to check'),
  expected_status: z
    .number()
    .int()
    .min(100)
    .max(599)
    .default(200)
    .describe('status the URL must answer'),
  timeout_ms: z
    .number()
    .int()
    .positive()
    .max(600_000)
    .default(10_000)
    .describe('time limit for the request (ms)'),
});
`;

const skillSource = ({
  name,
  category,
}: ScaffoldOptions) => `import { AssertionFailedError, defineSkill } from '@webguard/shared';
import { Params } from './params.js';

export default defineSkill({
  name: '${name}',
  category: '${category}',
  version: '0.1.0',
  description: 'Requests a URL and checks that it answers with the expected status.',
  params: Params,
  async run(ctx, params) {
    const response = await ctx.step('request', () =>
      ctx.http.request({ url: params.url, timeoutMs: params.timeout_ms }),
    );
    ctx.metric('response_time', response.timings.total_ms, 'ms');

    await ctx.step('status', () => {
      if (response.status !== params.expected_status) {
        throw new AssertionFailedError(
          \`expected status \${params.expected_status}, got \${response.status} from \${params.url}\`,
        );
      }
    });
    return { status: response.status, response_time_ms: response.timings.total_ms };
  },
});
`;

const testSource = (
  { name }: ScaffoldOptions,
  engine: string,
) => `import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCase } from '${engine}';
import skill from './skill.js';

describe('${name}', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      response.writeHead(request.url === '/ok' ? 200 : 503).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = \`http://127.0.0.1:\${(server.address() as AddressInfo).port}\`;
  });
  afterAll(() => {
    server.close();
  });

  const run = (params: Record<string, unknown>) =>
    runCase({ skill, params, caseName: '${name}', executionId: null, timeoutMs: 10_000 });

  it('passes when the URL answers the expected status', async () => {
    const outcome = await run({ url: \`\${url}/ok\` });
    expect(outcome).toMatchObject({ status: 'passed', outputs: { status: 200 } });
    expect(outcome.steps.map((step) => step.name)).toEqual(['request', 'status']);
  });

  it('fails, saying what it expected and what it found, when it does not', async () => {
    const outcome = await run({ url: \`\${url}/down\` });
    expect(outcome).toMatchObject({
      status: 'failed',
      error_type: 'assertion',
      error_message: \`expected status 200, got 503 from \${url}/down\`,
    });
  });

  it('rejects bad params, naming the field', async () => {
    const outcome = await run({ url: 'ftp://example.com' });
    expect(outcome).toMatchObject({ status: 'error', error_type: 'system' });
    expect(outcome.error_message).toContain('url: must be an http or https URL');
  });
});
`;

const readmeSource = ({ name, category }: ScaffoldOptions) => `# ${name}

A WebGuard skill (category \`${category}\`): requests a URL and checks that it answers with the
expected status.

| param | default | meaning |
|---|---|---|
| \`url\` | (required) | URL to check |
| \`expected_status\` | \`200\` | status the URL must answer |
| \`timeout_ms\` | \`10000\` | time limit for the request (ms) |

Outputs: \`status\`, \`response_time_ms\`. Metrics: \`response_time\` (ms).

## Develop

- \`skill.ts\` is the skill, \`params.ts\` its params schema (each \`.describe()\` is a form label).
- \`npx vitest run ${name}\` runs \`skill.test.ts\` against a local server.
- \`webguard skill list --dir <this folder's parent>\` shows whether the loader accepts it.

See the skill guide (\`docs/skills.md\` in the WebGuard repository) for the whole context API.
`;

/** Creates `<dir>/<name>/` with a working skill, its params, a README and a test. */
export async function scaffoldSkill(
  options: ScaffoldOptions,
): Promise<{ folder: string; files: string[] }> {
  const problem = checkSkillName(options.name);
  if (problem) throw new ScaffoldError(problem);
  const folder = resolve(options.dir, options.name);
  if (existsSync(folder))
    throw new ScaffoldError(
      `${folder} already exists; pick another name or --dir (nothing was overwritten)`,
    );
  const files: Record<string, string> = {
    'skill.ts': skillSource(options),
    'params.ts': paramsSource(),
    'skill.test.ts': testSource(options, engineImport(folder)),
    'README.md': readmeSource(options),
  };
  await mkdir(folder, { recursive: true });
  for (const [file, source] of Object.entries(files))
    await writeFile(join(folder, file), source, { flag: 'wx' });
  return { folder, files: Object.keys(files).map((file) => join(folder, file)) };
}
