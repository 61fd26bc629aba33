import type { JsonValue } from '@webguard/shared';

/** `{{name}}`, spaces allowed inside the braces. */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w-]*)\s*\}\}/g;
const WHOLE_PLACEHOLDER = /^\{\{\s*([A-Za-z_][\w-]*)\s*\}\}$/;

export const NAME_PATTERN = /^[A-Za-z_][\w-]*$/;

/** The placeholder names a value uses, at any depth. */
export function placeholdersIn(value: JsonValue | undefined): string[] {
  if (typeof value === 'string')
    return [...value.matchAll(PLACEHOLDER)].map((match) => match[1] ?? '');
  if (Array.isArray(value)) return value.flatMap(placeholdersIn);
  if (typeof value === 'object' && value !== null)
    return Object.values(value).flatMap(placeholdersIn);
  return [];
}

const asText = (value: JsonValue): string =>
  typeof value === 'string' ? value : JSON.stringify(value);

/** Replaces placeholders in text; values that are not strings go in as JSON. */
export function fillText(text: string, values: Record<string, JsonValue>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const value = values[name];
    return value === undefined ? whole : asText(value);
  });
}

/**
 * Replaces placeholders in a JSON body. A string that is only a placeholder takes the value
 * itself, so a captured number stays a number; anywhere else the value is spliced in as text.
 */
export function fillJson(value: JsonValue, values: Record<string, JsonValue>): JsonValue {
  if (typeof value === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(value)?.[1];
    if (whole !== undefined && values[whole] !== undefined) return values[whole];
    return fillText(value, values);
  }
  if (Array.isArray(value)) return value.map((item) => fillJson(item, values));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, fillJson(item, values)]),
    );
  return value;
}
