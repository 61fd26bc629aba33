import { readFile } from 'node:fs/promises';
import { createJiti } from 'jiti';
import * as shared from '@webguard/shared';
import * as zod from 'zod';

/** Compiles and evaluates one skill file, returning its exports. */
export type SkillModuleImporter = (file: string) => Promise<Record<string, unknown>>;

/**
 * Makes an importer that compiles skill files (TypeScript or JavaScript) on the fly. Skills get
 * the server's own `@webguard/shared` and `zod` module objects, whatever folder they live in:
 * the SDK's shape check uses `instanceof z.ZodType`, which a second copy of zod would fail.
 * Make one per load so edited skills (and the files they import) are read afresh.
 */
export function createSkillImporter(): SkillModuleImporter {
  const jiti = createJiti(import.meta.url, {
    moduleCache: false,
    // The raw exports: interop would make a missing `default` look like the whole module.
    interopDefault: false,
    virtualModules: { '@webguard/shared': shared, zod },
    // Subpaths such as `zod/v4` resolve natively, so they share the server's instance too.
    nativeModules: ['@webguard/shared', 'zod'],
  });
  return async (file) => {
    const source = await readFile(file, 'utf8');
    // Always transpile, even `.mjs`: a native import would bypass the module objects above and
    // stay in Node's ESM cache, so a reload would never see an edit.
    const exports = await jiti.evalModule(source, {
      filename: file,
      async: true,
      forceTranspile: true,
    });
    return typeof exports === 'object' && exports !== null
      ? (exports as Record<string, unknown>)
      : {};
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A one-line reason from a compile or import failure of `file`, with the line in `file` that
 * threw when the stack has it (jiti keeps line numbers, not columns).
 */
export function describeImportFailure(error: unknown, file: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const [withoutRequireStack = message] = message.split(/\n\s*Require stack:/);
  const reason = withoutRequireStack.replace(/\s+/g, ' ').trim();
  if (reason.includes(file) || !(error instanceof Error)) return reason;
  const line = new RegExp(`${escapeRegExp(file)}:(\\d+):\\d+`).exec(error.stack ?? '')?.[1];
  return line === undefined ? reason : `${reason} (line ${line})`;
}
