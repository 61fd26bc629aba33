import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  JsonObject,
  type LocalRunEvent,
  type LocalRunState,
  type LocalSkill,
  type RunEvent,
} from '@webguard/shared';
import { LocalRunnerHost } from './host.js';

export interface SkillRunOptions {
  params?: string;
  headed?: boolean;
  watch?: boolean;
  timeout?: number;
}

/** 0 passed, 1 failed, 2 the request itself is wrong (as everywhere in the CLI). */
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

async function readParams(
  file: string | undefined,
): Promise<{ ok: true; params: JsonObject } | { ok: false; error: string }> {
  if (!file) return { ok: true, params: {} };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return {
      ok: false,
      error: `cannot read the params file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `the params file ${file} is not JSON: ${(error as Error).message}` };
  }
  const parsed = JsonObject.safeParse(json);
  return parsed.success
    ? { ok: true, params: parsed.data }
    : { ok: false, error: `the params file ${file} must hold a JSON object of the skill's params` };
}

const seconds = (ms: number | null) =>
  ms === null ? '' : ms < 1000 ? ` (${ms} ms)` : ` (${(ms / 1000).toFixed(2)} s)`;

/** One event as a line (or none) for a person watching a terminal. */
export function describeEvent(event: RunEvent): string | null {
  switch (event.type) {
    case 'case.started':
      return `▶ ${event.case_name} (${event.skill_name})`;
    case 'step.finished':
      return `  ${event.step.status === 'passed' ? '✓' : '✗'} ${event.step.name}${seconds(event.step.duration_ms)}${event.step.error ? `: ${event.step.error}` : ''}`;
    case 'log':
      return `  [${event.entry.level}] ${event.entry.message}${event.entry.data && Object.keys(event.entry.data).length > 0 ? ` ${JSON.stringify(event.entry.data)}` : ''}`;
    case 'metric':
      return `  · ${event.metric.name} = ${event.metric.value}${event.metric.unit ? ` ${event.metric.unit}` : ''}`;
    case 'artifact.added': {
      const where = event.artifact.url.startsWith('file:')
        ? fileURLToPath(event.artifact.url)
        : event.artifact.url;
      return `  ${event.artifact.kind}: ${where}`;
    }
    case 'case.finished':
      return event.status === 'passed'
        ? `✔ passed${seconds(event.duration_ms)}`
        : `✖ ${event.status}${event.error_type ? ` (${event.error_type})` : ''}: ${event.error_message ?? 'no message'}`;
    default:
      return null;
  }
}

/**
 * `webguard skill run <folder>`: runs a skill folder on this machine through the same engine and
 * child process as the desktop's local runner, printing its steps, logs and result as they come.
 * With `--watch` it runs again on every save until interrupted.
 */
export async function runSkillCommand(
  folder: string,
  options: SkillRunOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const params = await readParams(options.params);
  if (!params.ok) {
    process.stderr.write(`${params.error}\n`);
    return EXIT_USAGE;
  }
  const host = new LocalRunnerHost();
  const absolute = resolve(folder);
  const write = (line: string) => out.write(`${line}\n`);
  return new Promise<number>((done) => {
    let exitCode = 0;
    const onEvent = ({ event }: LocalRunEvent) => {
      const line = describeEvent(event);
      if (line) write(line);
      if (event.type === 'execution.finished')
        exitCode = event.status === 'passed' ? 0 : EXIT_FAILED;
    };
    // A folder that holds no skill is a usage error, not a failed test.
    const onSkill = ({ skill }: { skill: LocalSkill }) => {
      if (skill.ok) return;
      process.stderr.write(`${skill.error}\n`);
      exitCode = EXIT_USAGE;
      finish();
    };
    const onState = (state: LocalRunState) => {
      if (state.state === 'watching') write(`… watching ${absolute} for changes (Ctrl-C to stop)`);
      if (state.state === 'starting' && state.iteration > 1)
        write(`\n↻ a file changed: run ${state.iteration}`);
      if (!options.watch && (state.state === 'finished' || state.state === 'crashed')) finish();
    };
    const finish = () => {
      process.off('SIGINT', finish);
      host.off('event', onEvent);
      host.off('state', onState);
      host.off('skill', onSkill);
      void host.close().then(() => done(exitCode));
    };
    host.on('event', onEvent);
    host.on('state', onState);
    host.on('skill', onSkill);
    process.once('SIGINT', finish);
    host.start({
      folder: absolute,
      params: params.params,
      headed: options.headed ?? false,
      watch: options.watch ?? false,
      ...(options.timeout ? { timeout_ms: options.timeout * 1000 } : {}),
    });
  });
}
