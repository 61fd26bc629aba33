import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  SkillDefinitionShape,
  z,
  type SkillDefinition,
  type SkillInfo,
  type SkillLoadError,
} from '@webguard/shared';
import { formatIssuePath } from '../engine/check-params.js';
import {
  createSkillImporter,
  describeImportFailure,
  type SkillModuleImporter,
} from './import-skill-module.js';

/** A skill that loaded and passed the shape check. */
export interface LoadedSkill {
  definition: SkillDefinition;
  /** The folder it was loaded from. */
  source: string;
  /** Its skill.ts / .mjs / .js: a sandbox thread loads the skill from it again. */
  file: string;
  info: SkillInfo;
}

/** The part of a pino logger the loader uses. */
export interface LoaderLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface LoadSkillsOptions {
  /**
   * Folders whose subfolders each hold one skill, named after it (`login`) or after it and its
   * version (`login@1.2.0`, to keep an older version beside the current one). On a clash of
   * name and version the earlier folder wins.
   */
  dirs: string[];
  logger?: LoaderLogger;
}

export interface LoadSkillsResult {
  skills: LoadedSkill[];
  errors: SkillLoadError[];
}

/** Looked for in this order; a folder with none of them is not a skill and is skipped. */
export const SKILL_FILES = ['skill.ts', 'skill.mjs', 'skill.js'] as const;

type FolderResult = { ok: true; skill: LoadedSkill } | { ok: false; error: SkillLoadError };

const failure = (source: string, name: string | null, message: string): FolderResult => ({
  ok: false,
  error: { source, name, message },
});

/** Skill folders of one dir, sorted so load order (and so duplicate resolution) is stable. */
async function skillFolders(dir: string): Promise<{ folder: string; file: string }[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter(
      (entry) =>
        entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'node_modules',
    )
    .map((entry) => entry.name)
    .sort()
    .flatMap((name) => {
      const folder = join(dir, name);
      const file = SKILL_FILES.map((candidate) => join(folder, candidate)).find((path) =>
        existsSync(path),
      );
      return file ? [{ folder, file }] : [];
    });
}

/** The registry's public view of a skill; the params schema is published for form UIs. */
export function toSkillInfo(definition: SkillDefinition, source: string): SkillInfo {
  return {
    name: definition.name,
    category: definition.category,
    version: definition.version,
    description: definition.description,
    timeout_ms: definition.timeoutMs ?? null,
    source,
    params_schema: z.toJSONSchema(definition.params, { io: 'input', unrepresentable: 'any' }),
  };
}

/** Loads the skill of one folder (`file` is its skill.ts / .mjs / .js), as `loadSkills` does. */
export async function loadFolder(
  folder: string,
  file: string,
  importSkill: SkillModuleImporter,
): Promise<FolderResult> {
  let exports: Record<string, unknown>;
  try {
    exports = await importSkill(file);
  } catch (error) {
    return failure(
      folder,
      null,
      `${file} could not be loaded: ${describeImportFailure(error, file)}`,
    );
  }

  const exported = exports['default'] ?? exports['skill'];
  if (exported === undefined) {
    return failure(
      folder,
      null,
      `${file} exports no skill: use "export default defineSkill({...})"`,
    );
  }
  const declaredName =
    typeof exported === 'object' && exported !== null && 'name' in exported
      ? exported.name
      : undefined;
  const name = typeof declaredName === 'string' ? declaredName : null;
  const shape = SkillDefinitionShape.safeParse(exported);
  if (!shape.success) {
    const reasons = shape.error.issues.map(
      (issue) => `${formatIssuePath(issue.path)}: ${issue.message}`,
    );
    return failure(folder, name, `${file} is not a valid skill: ${reasons.join('; ')}`);
  }

  const definition: SkillDefinition = shape.data;
  const folderName = basename(folder);
  const versioned = `${definition.name}@${definition.version}`;
  if (folderName !== definition.name && folderName !== versioned) {
    return failure(
      folder,
      definition.name,
      `${file} defines skill "${definition.name}" version ${definition.version} but its folder is "${folderName}": name the folder "${definition.name}" or "${versioned}"`,
    );
  }
  try {
    return {
      ok: true,
      skill: { definition, source: folder, file, info: toSkillInfo(definition, folder) },
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return failure(
      folder,
      definition.name,
      `${file}: the params schema cannot be published as JSON Schema: ${reason}`,
    );
  }
}

/**
 * Discovers and loads the skills in `dirs`. A broken skill (does not compile, throws on import,
 * fails the shape check, clashes with another) is reported in `errors`; the rest still load.
 */
export async function loadSkills(options: LoadSkillsOptions): Promise<LoadSkillsResult> {
  const { logger } = options;
  const importSkill = createSkillImporter();
  const loaded = new Map<string, LoadedSkill>();
  const errors: SkillLoadError[] = [];

  for (const dir of options.dirs) {
    let folders: { folder: string; file: string }[];
    try {
      folders = await skillFolders(dir);
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException;
      const reason =
        code === 'ENOENT'
          ? 'it does not exist'
          : code === 'ENOTDIR'
            ? 'it is not a folder'
            : message;
      errors.push({
        source: dir,
        name: null,
        message: `skill folder ${dir} cannot be read: ${reason}`,
      });
      continue;
    }
    for (const { folder, file } of folders) {
      const result = await loadFolder(folder, file, importSkill);
      if (!result.ok) {
        errors.push(result.error);
        continue;
      }
      const { skill } = result;
      const key = `${skill.info.name}@${skill.info.version}`;
      const first = loaded.get(key);
      if (first) {
        const message = `skill "${skill.info.name}" version ${skill.info.version} from ${folder} duplicates the one from ${first.source}; the first one is kept`;
        errors.push({ source: folder, name: skill.info.name, message });
        continue;
      }
      loaded.set(key, skill);
    }
  }

  for (const error of errors)
    logger?.warn({ source: error.source, skill: error.name }, error.message);
  logger?.info(
    { skills: [...loaded.keys()], failed: errors.length, dirs: options.dirs },
    'skills loaded',
  );
  return { skills: [...loaded.values()], errors };
}
