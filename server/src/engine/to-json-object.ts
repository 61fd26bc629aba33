import { JsonObject } from '@webguard/shared';

export type JsonObjectResult = { ok: true; value: JsonObject } | { ok: false; reason: string };

function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value !== 'object') return `a ${typeof value}`;
  const constructorName = (
    Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null
  )?.constructor?.name;
  return `an instance of ${constructorName ?? 'an unknown class'}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Turns a skill's value into the JSON object stored in jsonb and sent over the wire. A JSON
 * round trip applies the usual rules (undefined fields dropped, dates as ISO strings), so what is
 * stored is exactly what a reader gets back later.
 */
export function toJsonObject(value: unknown): JsonObjectResult {
  if (!isPlainObject(value))
    return { ok: false, reason: `${describeKind(value)} is not a JSON object` };
  try {
    return { ok: true, value: JsonObject.parse(JSON.parse(JSON.stringify(value))) };
  } catch (error) {
    return {
      ok: false,
      reason: `it cannot be written as JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
