import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import streamArray from 'stream-json/streamers/stream-array.js';
import { request } from 'undici';
import { AssertionFailedError, NetworkError, SkillError } from '@webguard/shared';

export const DATA_FORMATS = ['csv', 'json', 'ndjson'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

export type Row = Record<string, unknown>;

export interface DataSource {
  path?: string | undefined;
  url?: string | undefined;
  inline?: string | Row[] | undefined;
  format?: DataFormat | undefined;
  delimiter: string;
}

/** A dataset ready to be read once, row by row. */
export interface OpenedSource {
  /** "left (orders.csv)", for messages. */
  label: string;
  /** Size of the raw data; inline rows count as their JSON. */
  bytes: number;
  /** Every column seen so far: the CSV header, or the union of the JSON rows' keys. */
  columns: Set<string>;
  rows(): AsyncIterable<Row>;
}

const EXTENSIONS: Record<string, DataFormat> = {
  csv: 'csv',
  tsv: 'csv',
  json: 'json',
  ndjson: 'ndjson',
  jsonl: 'ndjson',
};

function formatFromName(name: string): DataFormat | undefined {
  const extension = /\.([a-z]+)$/i.exec(name)?.[1]?.toLowerCase();
  return extension === undefined ? undefined : EXTENSIONS[extension];
}

function formatFromContentType(contentType: string | undefined): DataFormat | undefined {
  if (!contentType) return undefined;
  if (/\b(x-)?ndjson\b|jsonl|json-seq/i.test(contentType)) return 'ndjson';
  if (/\bjson\b/i.test(contentType)) return 'json';
  if (/\bcsv\b/i.test(contentType)) return 'csv';
  return undefined;
}

function formatFromText(text: string): DataFormat {
  const start = text.trimStart()[0];
  return start === '[' ? 'json' : start === '{' ? 'ndjson' : 'csv';
}

const reasonOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** Streams a URL's body to a file: rows are read from disk, so a slow read never stalls the server. */
async function download(url: string, file: string, side: string, signal: AbortSignal) {
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(url, { signal });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw new NetworkError(`cannot fetch the ${side} dataset from ${url}: ${reasonOf(error)}`, {
      cause: error,
    });
  }
  if (response.statusCode < 200 || response.statusCode > 299) {
    await response.body.dump();
    throw new AssertionFailedError(
      `expected a 2xx response for the ${side} dataset, got ${response.statusCode} from GET ${url}`,
    );
  }
  await pipeline(response.body, createWriteStream(file), { signal });
  const contentType = response.headers['content-type'];
  return typeof contentType === 'string' ? contentType : undefined;
}

/** Errors of the file or download behind a parser reach the parser, so `for await` sees them. */
function piped<T extends NodeJS.WritableStream & NodeJS.ReadableStream>(
  input: Readable,
  parser: T,
): T {
  input.on('error', (error) => (parser as unknown as Readable).destroy(error));
  return input.pipe(parser);
}

async function* csvRows(input: Readable, delimiter: string, source: OpenedSource) {
  const parser = piped(
    input,
    parse({
      delimiter,
      bom: true,
      skip_empty_lines: true,
      columns: (header: string[]) => {
        for (const column of header) source.columns.add(column);
        return header;
      },
    }),
  );
  try {
    for await (const record of parser) yield record as Row;
  } catch (error) {
    if ((error as { code?: unknown }).code?.toString().startsWith('CSV_'))
      throw new AssertionFailedError(
        `the ${source.label} dataset is not valid CSV: ${reasonOf(error)}`,
      );
    throw error;
  }
}

function addColumns(row: Row, columns: Set<string>): void {
  for (const column in row) columns.add(column);
}

function asRow(value: unknown, where: string, source: OpenedSource): Row {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new AssertionFailedError(`${where} of the ${source.label} dataset is not an object`);
  const row = value as Row;
  addColumns(row, source.columns);
  return row;
}

async function* jsonRows(input: Readable, source: OpenedSource) {
  const items = piped(input, streamArray.withParserAsStream());
  try {
    for await (const item of items as AsyncIterable<{ key: number; value: unknown }>)
      yield asRow(item.value, `item ${item.key}`, source);
  } catch (error) {
    if (error instanceof SkillError) throw error;
    throw new AssertionFailedError(
      `the ${source.label} dataset is not a JSON array of objects: ${reasonOf(error)}`,
    );
  }
}

async function* ndjsonRows(input: Readable, source: OpenedSource) {
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new AssertionFailedError(
        `line ${line} of the ${source.label} dataset is not JSON: ${reasonOf(error)}`,
      );
    }
    yield asRow(value, `line ${line}`, source);
  }
}

async function* inlineRows(rows: Row[], source: OpenedSource) {
  for (const [index, row] of rows.entries()) yield asRow(row, `row ${index}`, source);
}

/**
 * Resolves a dataset to something to read once: a file is streamed where it lies, a URL is
 * streamed to `tempDir` first, inline data is read from memory.
 */
export async function openSource(
  side: 'left' | 'right',
  params: DataSource,
  tempDir: string,
  signal: AbortSignal,
): Promise<OpenedSource> {
  const source: OpenedSource = {
    label: side,
    bytes: 0,
    columns: new Set(),
    rows: () => inlineRows([], source),
  };
  const fromFile = (file: string, format: DataFormat) => {
    source.rows = () => {
      const input = createReadStream(file);
      if (format === 'csv') return csvRows(input, params.delimiter, source);
      return format === 'json' ? jsonRows(input, source) : ndjsonRows(input, source);
    };
  };

  if (params.path !== undefined) {
    source.label = `${side} (${params.path})`;
    try {
      source.bytes = (await stat(params.path)).size;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'it does not exist' : reasonOf(error);
      throw new SkillError(
        'system',
        `the ${side} dataset ${params.path} cannot be read: ${reason}`,
      );
    }
    fromFile(params.path, params.format ?? formatFromName(params.path) ?? 'csv');
  } else if (params.url !== undefined) {
    source.label = `${side} (${params.url})`;
    const file = join(tempDir, `${side}.download`);
    const contentType = await download(params.url, file, side, signal);
    source.bytes = (await stat(file)).size;
    const format =
      params.format ??
      formatFromName(new URL(params.url).pathname) ??
      formatFromContentType(contentType) ??
      'csv';
    fromFile(file, format);
  } else if (typeof params.inline === 'string') {
    const text = params.inline;
    source.bytes = Buffer.byteLength(text);
    const format = params.format ?? formatFromText(text);
    source.rows = () => {
      const input = Readable.from([text]);
      if (format === 'csv') return csvRows(input, params.delimiter, source);
      return format === 'json' ? jsonRows(input, source) : ndjsonRows(input, source);
    };
  } else {
    const rows = params.inline ?? [];
    source.bytes = Buffer.byteLength(JSON.stringify(rows));
    source.rows = () => inlineRows(rows, source);
  }
  return source;
}
