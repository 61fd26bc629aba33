import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A skill every install ships; finding it tells the repo's `skills/` apart from other folders. */
const MARKER_SKILL = 'http-check';

/**
 * The repo's built-in `skills/` folder, found by walking up from this module, so it resolves the
 * same from `server/src` (tests) and `server/dist` (built). Throws when the install lacks it.
 */
export function builtinSkillsDir(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    const candidate = join(dir, 'skills');
    if (existsSync(join(candidate, MARKER_SKILL))) return candidate;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(
        `the built-in skills folder (skills/${MARKER_SKILL}) was not found above ${from}`,
      );
    dir = parent;
  }
}
