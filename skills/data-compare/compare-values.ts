/** How one column's values are compared; every field is optional and off by default. */
export interface ColumnRule {
  /** Numbers within this absolute difference are equal. */
  abs?: number;
  /** Numbers within this fraction of the larger magnitude are equal. */
  rel?: number;
  ignore_case?: boolean;
  /** Leading and trailing whitespace is ignored and inner runs count as one space. */
  ignore_whitespace?: boolean;
}

/**
 * Cells compare as text, so the CSV cell "5" equals the JSON number 5 and an empty cell equals
 * null; objects and arrays compare by their JSON. A column with a numeric tolerance compares as
 * numbers when both cells are numeric.
 */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  // Rows come from JSON or CSV: anything else is null, an object or an array.
  return value === null || value === undefined ? '' : JSON.stringify(value);
}

function numberOf(text: string): number | undefined {
  if (text.trim() === '') return undefined;
  const number = Number(text);
  return Number.isFinite(number) ? number : undefined;
}

export function sameValue(left: unknown, right: unknown, rule: ColumnRule | undefined): boolean {
  if (left === right) return true;
  // A cell missing from one row (JSON rows need not share their keys) differs from any value.
  if (left === undefined || right === undefined) return false;
  let a = textOf(left);
  let b = textOf(right);
  if (a === b) return true;
  if (!rule) return false;
  if (rule.abs !== undefined || rule.rel !== undefined) {
    const x = numberOf(a);
    const y = numberOf(b);
    if (x !== undefined && y !== undefined) {
      const difference = Math.abs(x - y);
      return (
        difference <= (rule.abs ?? 0) ||
        difference <= (rule.rel ?? 0) * Math.max(Math.abs(x), Math.abs(y))
      );
    }
  }
  if (rule.ignore_whitespace) {
    a = a.trim().replace(/\s+/g, ' ');
    b = b.trim().replace(/\s+/g, ' ');
  }
  if (rule.ignore_case) {
    a = a.toLowerCase();
    b = b.toLowerCase();
  }
  return a === b;
}
