import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { SKILL_CATEGORIES, type SkillCategory } from '@webguard/shared';
import { ConfigError, loadConfig } from '../config.js';
import { builtinSkillsDir, SkillRegistry } from '../skills/index.js';
import { runSkillCommand, type SkillRunOptions } from '../local-runner/index.js';
import { ScaffoldError, checkSkillName, isSkillCategory, scaffoldSkill } from './skill-scaffold.js';

/** Same as the rest of the CLI: 2 for usage and configuration errors. */
const EXIT_USAGE = 2;
/** `skill list` found a folder the loader rejected. */
const EXIT_REJECTED = 1;

function parseName(value: string): string {
  const problem = checkSkillName(value);
  if (problem) throw new InvalidArgumentError(problem);
  return value;
}

function parseCategory(value: string): SkillCategory {
  if (!isSkillCategory(value))
    throw new InvalidArgumentError(`choose one of ${SKILL_CATEGORIES.join(', ')}`);
  return value;
}

/** A problem with the request itself, not with how it was typed: no usage text after it. */
function fail(message: string): void {
  process.stderr.write(`${message}\n`);
  process.exitCode = EXIT_USAGE;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function parsePositive(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new InvalidArgumentError('must be a whole number of seconds, 1 or more');
  return number;
}

/** Left-aligned columns, two spaces apart. */
function table(rows: string[][]): string {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      `  ${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')}`.trimEnd(),
    )
    .join('\n');
}

async function listSkills(options: { dir: string[]; json?: boolean }): Promise<void> {
  let skillPaths: string[];
  try {
    skillPaths = loadConfig().skillPaths;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return fail(error.message);
  }
  const dirs = [builtinSkillsDir(), ...skillPaths, ...options.dir.map((dir) => resolve(dir))];
  const registry = new SkillRegistry({ dirs });
  await registry.load();
  const list = registry.summary();

  if (options.json) {
    process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
  } else {
    const lines = [`Skills (${list.items.length}) from ${dirs.join(', ')}:`];
    if (list.items.length > 0) {
      lines.push(
        table([
          ['NAME', 'VERSION', 'CATEGORY', 'SOURCE'],
          ...list.items.map((item) => [
            item.name,
            // The newest first; older versions kept beside it follow in brackets.
            item.versions.length > 1
              ? `${item.version} (${item.versions.slice(1).join(', ')})`
              : item.version,
            item.category,
            item.source,
          ]),
        ]),
      );
    }
    if (list.errors.length > 0) {
      lines.push('', `Rejected (${list.errors.length}):`);
      for (const error of list.errors) lines.push(`  ${error.source}`, `    ${error.message}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  if (list.errors.length > 0) process.exitCode = EXIT_REJECTED;
}

/** Adds `webguard skill new` and `webguard skill list`. */
export function registerSkillCommands(program: Command): void {
  const skill = program
    .command('skill')
    .description('Create skills, see which ones load and run one locally.');

  skill
    .command('new')
    .description('Scaffold a skill folder: skill.ts, params.ts, README.md and skill.test.ts.')
    .argument('<name>', 'lowercase letters, digits and dashes, e.g. login-check', parseName)
    .requiredOption(
      '--category <category>',
      `the queue its cases run on: ${SKILL_CATEGORIES.join(', ')}`,
      parseCategory,
    )
    .option('--dir <folder>', 'folder to create the skill folder in', '.')
    .action(async (name: string, options: { category: SkillCategory; dir: string }) => {
      try {
        const { folder, files } = await scaffoldSkill({
          name,
          category: options.category,
          dir: options.dir,
        });
        process.stdout.write(
          `Created skill "${name}" in ${folder}:\n${files.map((file) => `  ${file}`).join('\n')}\n`,
        );
      } catch (error) {
        if (!(error instanceof ScaffoldError)) throw error;
        fail(error.message);
      }
    });

  skill
    .command('list')
    .description(
      'List the skills the loader finds (built-in, WEBGUARD_SKILLS_PATHS, --dir) and every folder it rejects; exits 1 if any is rejected.',
    )
    .option('--dir <folder>', 'another folder of skills to load (repeatable)', collect, [])
    .option('--json', 'print the list as JSON')
    .action((options: { dir: string[]; json?: boolean }) => listSkills(options));

  skill
    .command('run')
    .description(
      'Run a skill folder on this machine, without a server: the same engine as the workers, in its own process. Exits 0 when it passes, 1 when it fails.',
    )
    .argument('<folder>', 'the skill folder (with skill.ts)')
    .option('--params <file>', 'a JSON file with the params object')
    .option('--headed', 'show the browser (browser skills)')
    .option('--watch', 'run again whenever a file in the folder changes, until Ctrl-C')
    .option('--timeout <seconds>', 'time limit of one run', parsePositive)
    .action(async (folder: string, options: SkillRunOptions) => {
      process.exitCode = await runSkillCommand(folder, options);
    });
}
