import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defineSkill, z, type SkillDefinition } from '@webguard/shared';
import { describe, expect, it } from 'vitest';
import { runCase } from './run-case.js';

/** The built guard, as a worker process loads it. */
const GUARD = fileURLToPath(new URL('../../dist/engine/exit-guard.js', import.meta.url));

/** A skill whose run calls process.exit, directly or from a callback it started. */
function exitingSkill(how: 'directly' | 'later'): SkillDefinition {
  return defineSkill({
    name: `exits-${how}`,
    category: 'api',
    version: '1.0.0',
    description: 'ends the process (test fixture)',
    params: z.object({}),
    async run() {
      if (how === 'later') await new Promise((resolve) => setTimeout(resolve, 10));
      process.exit(7);
    },
  });
}

describe('a skill calling process.exit', () => {
  for (const how of ['directly', 'later'] as const) {
    it(`fails its case as a system error and leaves the process running (${how})`, async () => {
      const outcome = await runCase({
        skill: exitingSkill(how),
        params: {},
        caseName: 'exit',
        executionId: 1,
        timeoutMs: 5_000,
      });
      expect(outcome).toMatchObject({ status: 'error', error_type: 'system' });
      expect(outcome.error_message).toContain(`skill "exits-${how}" called process.exit(7)`);
    });
  }

  it('still ends the process when code outside a skill calls it', () => {
    // In a child process: the guard is installed by a first skill run, then the process exits.
    const script = `
      const { runAsSkill } = await import(${JSON.stringify(GUARD)});
      runAsSkill('harmless', () => undefined);
      process.exit(5);
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script]);
    expect(child.status, child.stderr.toString()).toBe(5);
  });
});
