import { createHash } from 'node:crypto';
import type { FailureGroup } from '@webguard/shared';

/**
 * The part of an error message that stays the same between occurrences: ids, numbers, quoted
 * values, URLs, hex and timestamps masked, whitespace collapsed, first line only.
 */
export function normalizeError(message: string): string {
  return (message.split('\n')[0] ?? '')
    .replace(/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?/g, '<time>')
    .replace(/\bhttps?:\/\/\S+/g, '<url>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/\b(0x)?[0-9a-f]{12,}\b/gi, '<hex>')
    .replace(/"[^"]*"|'[^']*'|`[^`]*`/g, '<value>')
    .replace(/\b\d+(\.\d+)?\b/g, '<n>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 500);
}

export interface FailureRow {
  suite_id: number;
  test_name: string;
  error_type: string | null;
  error_message: string;
  created_at: Date;
}

/** Groups failures by normalized message, most frequent first. */
export function groupFailures(rows: FailureRow[], limit: number): FailureGroup[] {
  const groups = new Map<string, FailureGroup & { caseKeys: Set<string> }>();
  for (const row of rows) {
    const message = normalizeError(row.error_message);
    const signature = createHash('sha1')
      .update(`${row.error_type ?? ''}\n${message}`)
      .digest('hex')
      .slice(0, 16);
    const at = row.created_at.toISOString();
    let group = groups.get(signature);
    if (!group) {
      group = {
        signature,
        message,
        error_type: row.error_type,
        occurrences: 0,
        cases: [],
        caseKeys: new Set(),
        first_seen_at: at,
        last_seen_at: at,
        example: row.error_message.slice(0, 2000),
      };
      groups.set(signature, group);
    }
    group.occurrences += 1;
    if (at < group.first_seen_at) group.first_seen_at = at;
    if (at > group.last_seen_at) group.last_seen_at = at;
    const key = `${row.suite_id}\n${row.test_name}`;
    if (!group.caseKeys.has(key)) {
      group.caseKeys.add(key);
      group.cases.push({ suite_id: row.suite_id, test_name: row.test_name });
    }
  }
  return [...groups.values()]
    .sort((a, b) => b.occurrences - a.occurrences || b.last_seen_at.localeCompare(a.last_seen_at))
    .slice(0, limit)
    .map(({ caseKeys: _caseKeys, ...group }) => group);
}
