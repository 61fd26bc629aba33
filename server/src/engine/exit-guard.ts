import { AsyncLocalStorage } from 'node:async_hooks';
import { SkillError } from '@webguard/shared';

/** The skill whose code is running, across every await and callback it started. */
const runningSkill = new AsyncLocalStorage<string>();
let guarded = false;

/**
 * Runs `body` as the code of `skillName`. A `process.exit()` from it, or from anything it
 * started, throws a system error that fails the case instead of ending the worker and every
 * other case on it; outside skill code `process.exit` behaves as usual.
 */
export function runAsSkill<T>(skillName: string, body: () => T): T {
  guardProcessExit();
  return runningSkill.run(skillName, body);
}

function guardProcessExit(): void {
  if (guarded) return;
  guarded = true;
  const exit = process.exit.bind(process);
  process.exit = (code?: number | string | null) => {
    const skill = runningSkill.getStore();
    if (skill === undefined) return exit(code);
    throw new SkillError(
      'system',
      `skill "${skill}" called process.exit(${code ?? ''}); a skill must return or throw, never end the worker process`,
    );
  };
}
