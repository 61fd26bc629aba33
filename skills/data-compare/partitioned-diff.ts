import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AssertionFailedError } from '@webguard/shared';
import { sameValue, textOf, type ColumnRule } from './compare-values.js';
import type { OpenedSource, Row } from './read-rows.js';

/**
 * Memory bound. Both datasets are split by a hash of the key into the same P partition files
 * on disk; then, one partition at a time, the left part is held in a Map (key → row JSON) and
 * the right part streamed past it. Live memory is therefore about one left partition plus the
 * keys of one right partition (a few times PARTITION_BYTES), plus P write buffers of
 * FLUSH_CHARS while splitting: some 10–30 MB whatever the row count, for inputs up to
 * MAX_PARTITIONS × PARTITION_BYTES (512 MiB) per side; beyond that partitions grow linearly.
 */
export const PARTITION_BYTES = 2 * 1024 * 1024;
export const MAX_PARTITIONS = 256;
/** Buffered characters per partition before a write. */
const FLUSH_CHARS = 32 * 1024;
/** Rows between checks of the abort signal. */
const CHECK_EVERY = 8192;

export interface DiffOptions {
  key: string[];
  /** Column rules by name; `*` applies to columns without their own. */
  rules: Record<string, ColumnRule>;
  ignore: ReadonlySet<string>;
  sampleSize: number;
  tempDir: string;
  signal: AbortSignal;
}

export type KeyValues = Record<string, unknown>;

export interface Change {
  column: string;
  left: unknown;
  right: unknown;
}

export interface DiffResult {
  leftRows: number;
  rightRows: number;
  added: number;
  removed: number;
  changed: number;
  unchanged: number;
  duplicateKeys: { left: number; right: number };
  changedByColumn: Record<string, number>;
  comparedColumns: string[];
  columnsOnlyLeft: string[];
  columnsOnlyRight: string[];
  partitions: number;
  samples: {
    added: { key: KeyValues; row: Row }[];
    removed: { key: KeyValues; row: Row }[];
    changed: { key: KeyValues; changes: Change[] }[];
    duplicates: { side: 'left' | 'right'; key: KeyValues }[];
  };
}

/** FNV-1a: cheap and spreads similar keys (id1, id2, …) evenly. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason;
}

/** Appends lines to P files with a buffer each, waiting when the disk falls behind. */
class PartitionWriter {
  private readonly streams: WriteStream[];
  private readonly pending: string[];

  constructor(dir: string, count: number) {
    this.streams = Array.from({ length: count }, (_, i) => createWriteStream(join(dir, `${i}`)));
    this.pending = Array<string>(count).fill('');
  }

  /** Returns a promise only when the caller has to wait for the disk. */
  add(partition: number, line: string): Promise<unknown> | undefined {
    const buffered = this.pending[partition] + line;
    if (buffered.length < FLUSH_CHARS) {
      this.pending[partition] = buffered;
      return undefined;
    }
    this.pending[partition] = '';
    const stream = this.streams[partition] as WriteStream;
    return stream.write(buffered) ? undefined : once(stream, 'drain');
  }

  async close(): Promise<void> {
    await Promise.all(
      this.streams.map(async (stream, i) => {
        stream.end(this.pending[i]);
        await once(stream, 'close');
      }),
    );
  }
}

async function* lines(file: string): AsyncIterable<string> {
  yield* createInterface({ input: createReadStream(file), crlfDelay: Infinity });
}

/** A line is `<key JSON>\t<row JSON>`: JSON.stringify escapes tabs, so the first tab splits. */
function splitLine(line: string): [string, string] {
  const tab = line.indexOf('\t');
  return [line.slice(0, tab), line.slice(tab + 1)];
}

export async function diffDatasets(
  left: OpenedSource,
  right: OpenedSource,
  options: DiffOptions,
): Promise<DiffResult> {
  const partitions = Math.min(
    MAX_PARTITIONS,
    Math.max(1, Math.ceil(Math.max(left.bytes, right.bytes) / PARTITION_BYTES)),
  );
  const keyText = (row: Row, source: OpenedSource, rowNumber: number): string => {
    const values = options.key.map((column) => {
      const value = row[column];
      if (value === undefined || value === null) {
        const has = Object.keys(row).join(', ');
        throw new AssertionFailedError(
          `row ${rowNumber} of the ${source.label} dataset has no value for key column "${column}"; it has: ${has}`,
        );
      }
      return textOf(value);
    });
    return JSON.stringify(values);
  };
  const keyValues = (text: string): KeyValues => {
    const values = JSON.parse(text) as string[];
    return Object.fromEntries(options.key.map((column, i) => [column, values[i]]));
  };

  // 1. Split each side into partition files by the hash of its key.
  const split = async (source: OpenedSource, side: 'left' | 'right'): Promise<number> => {
    const dir = join(options.tempDir, side);
    await mkdir(dir, { recursive: true });
    const writer = new PartitionWriter(dir, partitions);
    let count = 0;
    try {
      for await (const row of source.rows()) {
        count++;
        const key = keyText(row, source, count);
        const wait = writer.add(hash(key) % partitions, `${key}\t${JSON.stringify(row)}\n`);
        if (wait) await wait;
        if (count % CHECK_EVERY === 0) throwIfAborted(options.signal);
      }
    } finally {
      await writer.close();
    }
    return count;
  };
  const leftRows = await split(left, 'left');
  const rightRows = await split(right, 'right');

  // 2. Compare the columns both sides have, except keys and ignored ones.
  const skip = new Set([...options.key, ...options.ignore]);
  const comparedColumns = [...left.columns].filter(
    (column) => right.columns.has(column) && !skip.has(column),
  );
  const result: DiffResult = {
    leftRows,
    rightRows,
    added: 0,
    removed: 0,
    changed: 0,
    unchanged: 0,
    duplicateKeys: { left: 0, right: 0 },
    changedByColumn: {},
    comparedColumns,
    columnsOnlyLeft: [...left.columns].filter(
      (column) => !right.columns.has(column) && !options.ignore.has(column),
    ),
    columnsOnlyRight: [...right.columns].filter(
      (column) => !left.columns.has(column) && !options.ignore.has(column),
    ),
    partitions,
    samples: { added: [], removed: [], changed: [], duplicates: [] },
  };
  const { samples } = result;
  const { sampleSize } = options;
  const ruleFor = (column: string) => options.rules[column] ?? options.rules['*'];
  const changesBetween = (leftRow: Row, rightRow: Row): Change[] =>
    comparedColumns
      .filter((column) => !sameValue(leftRow[column], rightRow[column], ruleFor(column)))
      .map((column) => ({ column, left: leftRow[column], right: rightRow[column] }));
  const duplicate = (side: 'left' | 'right', key: string) => {
    result.duplicateKeys[side]++;
    if (samples.duplicates.length < sampleSize)
      samples.duplicates.push({ side, key: keyValues(key) });
  };

  // 3. One partition at a time: hold the left part, stream the right part past it.
  let seen = 0;
  for (let partition = 0; partition < partitions; partition++) {
    const held = new Map<string, string>();
    for await (const line of lines(join(options.tempDir, 'left', `${partition}`))) {
      const [key, row] = splitLine(line);
      if (held.has(key)) duplicate('left', key);
      else held.set(key, row);
    }
    const seenRight = new Set<string>();
    for await (const line of lines(join(options.tempDir, 'right', `${partition}`))) {
      if (++seen % CHECK_EVERY === 0) throwIfAborted(options.signal);
      const [key, rowJson] = splitLine(line);
      if (seenRight.has(key)) {
        duplicate('right', key);
        continue;
      }
      seenRight.add(key);
      const leftJson = held.get(key);
      if (leftJson === undefined) {
        result.added++;
        if (samples.added.length < sampleSize)
          samples.added.push({ key: keyValues(key), row: JSON.parse(rowJson) as Row });
        continue;
      }
      held.delete(key);
      const changes =
        leftJson === rowJson
          ? []
          : changesBetween(JSON.parse(leftJson) as Row, JSON.parse(rowJson) as Row);
      if (changes.length === 0) {
        result.unchanged++;
        continue;
      }
      result.changed++;
      for (const change of changes)
        result.changedByColumn[change.column] = (result.changedByColumn[change.column] ?? 0) + 1;
      if (samples.changed.length < sampleSize)
        samples.changed.push({ key: keyValues(key), changes });
    }
    for (const [key, rowJson] of held) {
      result.removed++;
      if (samples.removed.length < sampleSize)
        samples.removed.push({ key: keyValues(key), row: JSON.parse(rowJson) as Row });
    }
  }
  return result;
}
