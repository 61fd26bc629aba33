import type { JsonValue } from '@webguard/shared';

export const MASK = '***';

/**
 * Replaces every secret value in text. Longer secrets go first so one that contains another is
 * masked whole; very short values are skipped because masking them would garble ordinary text.
 */
export function createMasker(secrets: Iterable<string>): (text: string) => string {
  const values = [...new Set(secrets)]
    .filter((value) => value.length >= 3)
    .sort((a, b) => b.length - a.length);
  if (values.length === 0) return (text) => text;
  return (text) => values.reduce((masked, value) => masked.split(value).join(MASK), text);
}

/** Masks secrets in every string of a JSON value, keys included. */
export function maskJson<T extends JsonValue>(value: T, mask: (text: string) => string): T {
  if (typeof value === 'string') return mask(value) as T;
  if (Array.isArray(value)) return value.map((item) => maskJson(item, mask)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [mask(key), maskJson(item, mask)]),
    ) as T;
  }
  return value;
}
