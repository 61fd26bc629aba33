import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AssertionFailedError,
  JsonObject,
  defineSkill,
  describeValue,
  z,
  type SkillContext,
} from '@webguard/shared';
import { diffDatasets, type DiffResult, type KeyValues } from './partitioned-diff.js';
import { DATA_FORMATS, openSource } from './read-rows.js';

const Source = z
  .object({
    path: z.string().min(1).optional().describe('a file on the machine that runs the case'),
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
      .optional()
      .describe('an http or https URL to download the data from'),
    inline: z
      .union([z.string(), z.array(JsonObject)])
      .optional()
      .describe('the data itself: CSV, JSON or NDJSON text, or a list of rows'),
    format: z
      .enum(DATA_FORMATS)
      .optional()
      .describe(
        'csv, json (an array of objects) or ndjson (one object per line); default: from the file name, content type or text',
      ),
    delimiter: z.string().length(1).default(',').describe('CSV field separator (default ",")'),
  })
  .refine(
    (source) =>
      [source.path, source.url, source.inline].filter((value) => value !== undefined).length === 1,
    'give exactly one of path, url or inline',
  );

const ColumnRule = z
  .object({
    abs: z.number().min(0).optional().describe('numbers differing by at most this much are equal'),
    rel: z
      .number()
      .min(0)
      .optional()
      .describe('numbers differing by at most this fraction of the larger one are equal'),
    ignore_case: z.boolean().optional().describe('compare text without regard to case'),
    ignore_whitespace: z
      .boolean()
      .optional()
      .describe('ignore leading and trailing whitespace, and count inner runs as one space'),
  })
  .describe('how the values of one column are compared');

const Params = z.object({
  left: Source.describe('the expected dataset'),
  right: Source.describe('the actual dataset, compared with left'),
  key: z
    .array(z.string().min(1))
    .min(1, 'name at least one key column')
    .describe('columns whose values identify a row on both sides'),
  tolerances: z
    .record(z.string(), ColumnRule)
    .default({})
    .describe('how columns compare, by column name; "*" applies to every other column'),
  ignore_columns: z.array(z.string()).default([]).describe('columns left out of the comparison'),
  sample_size: z
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(10)
    .describe('how many added, removed and changed rows to keep as examples of each'),
  fail_on_diff: z
    .boolean()
    .default(true)
    .describe(
      'fail the case when the datasets differ (true), or only report the differences (false)',
    ),
});
type Params = z.output<typeof Params>;

function describeKey(key: KeyValues): string {
  return Object.entries(key)
    .map(([column, value]) => `${column}=${String(value as string)}`)
    .join(',');
}

/** A few examples of each kind of difference, for the failure message. */
function describeDifferences(result: DiffResult): string[] {
  const examples = 3;
  const parts: string[] = [];
  const { samples } = result;
  if (result.columnsOnlyLeft.length > 0)
    parts.push(`columns only in left: ${result.columnsOnlyLeft.join(', ')}`);
  if (result.columnsOnlyRight.length > 0)
    parts.push(`columns only in right: ${result.columnsOnlyRight.join(', ')}`);
  if (result.added > 0)
    parts.push(
      `added: ${samples.added
        .slice(0, examples)
        .map((s) => describeKey(s.key))
        .join('; ')}`,
    );
  if (result.removed > 0)
    parts.push(
      `removed: ${samples.removed
        .slice(0, examples)
        .map((s) => describeKey(s.key))
        .join('; ')}`,
    );
  if (result.changed > 0) {
    const changed = samples.changed
      .slice(0, examples)
      .map(
        (sample) =>
          `${describeKey(sample.key)} ${sample.changes
            .map(
              (change) =>
                `${change.column} ${describeValue(change.left)} → ${describeValue(change.right)}`,
            )
            .join(', ')}`,
      );
    parts.push(`changed: ${changed.join('; ')}`);
  }
  const { left, right } = result.duplicateKeys;
  if (left + right > 0) {
    const keys = samples.duplicates
      .slice(0, examples)
      .map((s) => `${s.side} ${describeKey(s.key)}`);
    parts.push(`duplicate keys: ${keys.join('; ')}`);
  }
  return parts;
}

function recordMetrics(ctx: SkillContext, result: DiffResult): void {
  ctx.metric('left_rows', result.leftRows, 'rows');
  ctx.metric('right_rows', result.rightRows, 'rows');
  ctx.metric('added_rows', result.added, 'rows');
  ctx.metric('removed_rows', result.removed, 'rows');
  ctx.metric('changed_rows', result.changed, 'rows');
  ctx.metric('unchanged_rows', result.unchanged, 'rows');
  ctx.metric('duplicate_keys', result.duplicateKeys.left + result.duplicateKeys.right, 'rows');
}

function outputsOf(result: DiffResult): JsonObject {
  // Rows came out of JSON.parse or csv-parse, so every value in them is JSON.
  return JSON.parse(
    JSON.stringify({
      left_rows: result.leftRows,
      right_rows: result.rightRows,
      added: result.added,
      removed: result.removed,
      changed: result.changed,
      unchanged: result.unchanged,
      duplicate_keys: result.duplicateKeys,
      changed_by_column: result.changedByColumn,
      compared_columns: result.comparedColumns,
      columns_only_left: result.columnsOnlyLeft,
      columns_only_right: result.columnsOnlyRight,
      samples: result.samples,
    }),
  ) as JsonObject;
}

export default defineSkill({
  name: 'data-compare',
  category: 'data',
  version: '1.0.0',
  description:
    'Compares two datasets (CSV, JSON or NDJSON; a file, a URL or inline) row by row on key columns, with per-column tolerances, and reports added, removed and changed rows.',
  params: Params,
  async run(ctx, params: Params) {
    const tempDir = await mkdtemp(join(tmpdir(), 'webguard-data-compare-'));
    try {
      const [left, right] = await ctx.step('open datasets', () =>
        Promise.all([
          openSource('left', params.left, tempDir, ctx.signal),
          openSource('right', params.right, tempDir, ctx.signal),
        ]),
      );
      const result = await ctx.step('compare', () =>
        diffDatasets(left, right, {
          key: params.key,
          rules: params.tolerances,
          ignore: new Set(params.ignore_columns),
          sampleSize: params.sample_size,
          tempDir,
          signal: ctx.signal,
        }),
      );
      recordMetrics(ctx, result);
      const differences = describeDifferences(result);
      const summary = `${result.added} added, ${result.removed} removed, ${result.changed} changed rows (${result.leftRows} left rows, ${result.rightRows} right rows)`;
      ctx.log.info(`compared ${left.label} with ${right.label}: ${summary}`, {
        partitions: result.partitions,
        compared_columns: result.comparedColumns,
        changed_by_column: result.changedByColumn,
      });
      if (differences.length > 0 && params.fail_on_diff) {
        await ctx.step('no differences', () => {
          throw new AssertionFailedError(
            `the datasets differ: ${summary}; ${differences.join('; ')}`,
          );
        });
      }
      return outputsOf(result);
    } finally {
      await rm(tempDir, { recursive: true, force: true });
    }
  },
});
