import type { JsonObject, JsonValue } from '@webguard/shared';

/** What `${{ ... }}` references can read when a case is about to run. */
export interface ReferenceScope {
  /** Outputs of cases of the same run, by case name. */
  cases: Record<string, JsonObject | undefined>;
  env: Record<string, string>;
  secrets: Record<string, string>;
}

const REFERENCE = /\$\{\{\s*([^}]*?)\s*\}\}/g;
const WHOLE_REFERENCE = /^\$\{\{\s*([^}]*?)\s*\}\}$/;

export class UnresolvedReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnresolvedReferenceError';
  }
}

/** The case names a params object reads outputs from, so they can be checked as dependencies. */
export function referencedCases(params: JsonValue): string[] {
  const names = new Set<string>();
  const walk = (value: JsonValue): void => {
    if (typeof value === 'string') {
      for (const match of value.matchAll(REFERENCE)) {
        const parts = (match[1] ?? '').split('.');
        if (parts[0] === 'cases' && parts[1]) names.add(parts[1]);
      }
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(params);
  return [...names];
}

function lookup(expression: string, scope: ReferenceScope, usedSecrets: Set<string>): JsonValue {
  const [root, ...path] = expression.split('.');
  const where = `\${{ ${expression} }}`;
  if (root === 'secrets' || root === 'env') {
    const name = path.join('.');
    const values = root === 'secrets' ? scope.secrets : scope.env;
    const value = values[name];
    if (value === undefined) {
      throw new UnresolvedReferenceError(
        `${where}: the environment of this run has no ${root === 'secrets' ? 'secret' : 'variable'} "${name}"`,
      );
    }
    if (root === 'secrets') usedSecrets.add(value);
    return value;
  }
  if (root === 'cases') {
    const [caseName, section, ...rest] = path;
    if (!caseName || section !== 'outputs') {
      throw new UnresolvedReferenceError(`${where}: write cases.<case name>.outputs.<field>`);
    }
    const outputs = scope.cases[caseName];
    if (!outputs)
      throw new UnresolvedReferenceError(
        `${where}: case "${caseName}" has not produced outputs in this run`,
      );
    let current: JsonValue = outputs;
    for (const key of rest) {
      const next: JsonValue | undefined =
        current !== null && typeof current === 'object' && !Array.isArray(current)
          ? current[key]
          : Array.isArray(current) && /^\d+$/.test(key)
            ? current[Number(key)]
            : undefined;
      if (next === undefined)
        throw new UnresolvedReferenceError(
          `${where}: case "${caseName}" has no output "${rest.join('.')}"`,
        );
      current = next;
    }
    return current;
  }
  throw new UnresolvedReferenceError(`${where}: references start with cases., env. or secrets.`);
}

/**
 * Substitutes `${{ cases.X.outputs.Y }}`, `${{ env.X }}` and `${{ secrets.X }}` in params. A
 * string that is exactly one reference takes the referenced value with its type (a number stays
 * a number); references inside longer strings are spliced in as text. Returns the secret values
 * used, so everything the case produces can be masked.
 */
export function resolveReferences(
  params: JsonObject,
  scope: ReferenceScope,
): { params: JsonObject; secrets: string[] } {
  const usedSecrets = new Set<string>();
  const resolve = (value: JsonValue): JsonValue => {
    if (typeof value === 'string') {
      const whole = WHOLE_REFERENCE.exec(value);
      if (whole) return lookup(whole[1] ?? '', scope, usedSecrets);
      return value.replace(REFERENCE, (_match, expression: string) => {
        const found = lookup(expression, scope, usedSecrets);
        return typeof found === 'string' ? found : JSON.stringify(found);
      });
    }
    if (Array.isArray(value)) return value.map(resolve);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolve(item)]));
    }
    return value;
  };
  return { params: resolve(params) as JsonObject, secrets: [...usedSecrets] };
}
