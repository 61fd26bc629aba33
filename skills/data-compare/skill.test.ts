import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseOutcome } from '@webguard/shared';
import { runCase } from '../../server/src/engine/index.js';
import { closedPort } from '../../server/test/support/closed-port.js';
import { startFixtureServer } from '../../server/test/support/fixture-server.js';
import dataCompare from './skill.js';

const execFileAsync = promisify(execFile);

/** Peak RSS growth allowed while comparing two 1M-row files (measured: about 30 MB). */
const MEMORY_BOUND_MB = 96;
const HEAP_CAP_MB = 128;

/** Runs the skill through the engine in a child process, sampling its RSS. */
async function compareInChild(
  params: Record<string, unknown>,
): Promise<{ outcome: CaseOutcome; growthMb: number }> {
  const engine = new URL('../../server/src/engine/index.ts', import.meta.url).href;
  const skill = new URL('./skill.ts', import.meta.url).href;
  const script = `
    const { runCase } = await import(${JSON.stringify(engine)});
    const { default: skill } = await import(${JSON.stringify(skill)});
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 10);
    const outcome = await runCase({
      skill, params: JSON.parse(process.env.PARAMS), caseName: 'big', executionId: null, timeoutMs: 170000,
    });
    clearInterval(sampler);
    process.stdout.write(JSON.stringify({ outcome, growthMb: (peak - before) / 1048576 }));
  `;
  const { stdout } = await execFileAsync(
    process.execPath,
    [`--max-old-space-size=${HEAP_CAP_MB}`, '--import', 'tsx', '--input-type=module', '-e', script],
    { env: { ...process.env, PARAMS: JSON.stringify(params) }, maxBuffer: 16 * 1024 * 1024 },
  );
  const result = JSON.parse(stdout) as { outcome: unknown; growthMb: number };
  return { outcome: CaseOutcome.parse(result.outcome), growthMb: result.growthMb };
}

const LEFT_CSV = `id,name,price,qty
1,Widget,10.00,5
2,Gadget,20.50,3
3,Gizmo,7.25,9
4,Doohickey,1.00,1
`;
const RIGHT_CSV = `id,name,price,qty
2,GADGET,20.504,3
1,Widget,10.50,5
3,Gizmo,7.25,8
5,Thingamajig,3.00,2
`;

describe('data-compare', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startFixtureServer>>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'webguard-data-compare-test-'));
    server = await startFixtureServer({
      '/rows.ndjson': (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/x-ndjson' });
        response.end(
          '{"id":1,"name":"Widget","price":10}\n\n{"id":2,"name":"Gadget","price":20.5}\n',
        );
      },
      '/gone': (_request, response) => {
        response.writeHead(404).end('no such export');
      },
    });
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const compare = async (params: Record<string, unknown>) =>
    CaseOutcome.parse(
      await runCase({
        skill: dataCompare,
        params,
        caseName: 'compare',
        executionId: null,
        timeoutMs: 120_000,
      }),
    );
  const metric = (outcome: CaseOutcome, name: string) =>
    outcome.metrics.find((entry) => entry.name === name)?.value;

  it('reports added, removed and changed rows, honouring tolerances', async () => {
    const outcome = await compare({
      left: { inline: LEFT_CSV },
      right: { inline: RIGHT_CSV },
      key: ['id'],
      tolerances: { price: { abs: 0.01 }, name: { ignore_case: true } },
    });

    expect(outcome).toMatchObject({ status: 'failed', error_type: 'assertion' });
    expect(outcome.error_message).toBe(
      'the datasets differ: 1 added, 1 removed, 2 changed rows (4 left rows, 4 right rows); ' +
        'added: id=5; removed: id=4; changed: id=1 price "10.00" → "10.50"; id=3 qty "9" → "8"',
    );
    expect(outcome.steps.map((step) => [step.name, step.status])).toEqual([
      ['open datasets', 'passed'],
      ['compare', 'passed'],
      ['no differences', 'failed'],
    ]);
    expect(Object.fromEntries(outcome.metrics.map((entry) => [entry.name, entry.value]))).toEqual({
      left_rows: 4,
      right_rows: 4,
      added_rows: 1,
      removed_rows: 1,
      changed_rows: 2,
      unchanged_rows: 1,
      duplicate_keys: 0,
    });
  });

  it('reports the differences as outputs when fail_on_diff is false', async () => {
    const outcome = await compare({
      left: { inline: LEFT_CSV },
      right: { inline: RIGHT_CSV },
      key: ['id'],
      tolerances: { '*': { ignore_case: true }, price: { rel: 0.001 } },
      ignore_columns: ['qty'],
      fail_on_diff: false,
    });
    expect(outcome.status).toBe('passed');
    expect(outcome.outputs).toMatchObject({
      added: 1,
      removed: 1,
      changed: 1,
      unchanged: 2,
      changed_by_column: { price: 1 },
      compared_columns: ['name', 'price'],
      samples: {
        added: [
          { key: { id: '5' }, row: { id: '5', name: 'Thingamajig', price: '3.00', qty: '2' } },
        ],
        removed: [
          { key: { id: '4' }, row: { id: '4', name: 'Doohickey', price: '1.00', qty: '1' } },
        ],
        changed: [
          { key: { id: '1' }, changes: [{ column: 'price', left: '10.00', right: '10.50' }] },
        ],
      },
    });
  });

  it('passes when a CSV file, a JSON file and an NDJSON URL hold the same rows', async () => {
    const csv = join(dir, 'expected.csv');
    const json = join(dir, 'actual.json');
    await writeFile(csv, 'id;name;price\n1;Widget;10.0\n2;Gadget;20.50\n');
    await writeFile(
      json,
      JSON.stringify([
        { price: 20.5, id: 2, name: ' Gadget ' },
        { id: 1, name: 'Widget', price: 10 },
      ]),
    );
    const tolerances = { price: { abs: 0 }, name: { ignore_whitespace: true } };
    const files = await compare({
      left: { path: csv, delimiter: ';' },
      right: { path: json },
      key: ['id'],
      tolerances,
    });
    expect(files).toMatchObject({ status: 'passed', error_message: null });
    expect(metric(files, 'unchanged_rows')).toBe(2);

    const url = await compare({
      left: { path: json },
      right: { url: `${server.url}/rows.ndjson` },
      key: ['id'],
      tolerances,
    });
    expect(url.status).toBe('passed');
    expect(url.outputs['compared_columns']).toEqual(['price', 'name']);
  });

  it('fails on duplicate keys, a missing key column and columns on one side only', async () => {
    const duplicates = await compare({
      left: { inline: 'id,v\n1,a\n1,b\n' },
      right: { inline: [{ id: 1, v: 'a', extra: true }] },
      key: ['id'],
    });
    expect(duplicates.error_message).toBe(
      'the datasets differ: 0 added, 0 removed, 0 changed rows (2 left rows, 1 right rows); ' +
        'columns only in right: extra; duplicate keys: left id=1',
    );
    const missingKey = await compare({
      left: { inline: 'code,v\nA,1\n' },
      right: { inline: 'code,v\nA,1\n' },
      key: ['id'],
    });
    expect(missingKey).toMatchObject({ status: 'failed', error_type: 'assertion' });
    expect(missingKey.error_message).toBe(
      'row 1 of the left dataset has no value for key column "id"; it has: code, v',
    );
    const badCsv = await compare({
      left: { inline: 'id,v\n1,a,extra\n' },
      right: { inline: 'id,v\n1,a\n' },
      key: ['id'],
    });
    expect(badCsv.error_message).toMatch(
      /^the left dataset is not valid CSV: Invalid Record Length/,
    );
  });

  it('fails when a dataset URL answers an error status or cannot be reached', async () => {
    const gone = await compare({
      left: { url: `${server.url}/gone` },
      right: { inline: [] },
      key: ['id'],
    });
    expect(gone).toMatchObject({
      status: 'failed',
      error_type: 'assertion',
      error_message: `expected a 2xx response for the left dataset, got 404 from GET ${server.url}/gone`,
    });
    const port = await closedPort();
    const down = await compare({
      left: { inline: [] },
      right: { url: `http://127.0.0.1:${port}/data.csv` },
      key: ['id'],
    });
    expect(down).toMatchObject({ status: 'failed', error_type: 'network' });
    expect(down.error_message).toContain(
      `cannot fetch the right dataset from http://127.0.0.1:${port}/data.csv: `,
    );
    const missing = await compare({
      left: { path: join(dir, 'nope.csv') },
      right: { inline: [] },
      key: ['id'],
    });
    expect(missing).toMatchObject({
      status: 'error',
      error_message: `the left dataset ${join(dir, 'nope.csv')} cannot be read: it does not exist`,
    });
  });

  it('rejects bad params, naming each field', async () => {
    const outcome = await compare({
      left: { path: 'a.csv', url: 'http://127.0.0.1/a.csv' },
      right: { inline: 'x', format: 'xml', delimiter: ';;' },
      key: [],
      tolerances: { price: { abs: -1 } },
    });
    expect(outcome).toMatchObject({ status: 'error', error_type: 'system', steps: [] });
    expect(outcome.error_message).toMatch(/^invalid params for skill "data-compare": /);
    for (const expected of [
      'left: give exactly one of path, url or inline',
      'right.format: ',
      'right.delimiter: ',
      'key: name at least one key column',
      'tolerances.price.abs: ',
    ])
      expect(outcome.error_message).toContain(expected);
  });

  it('compares two 1,000,000-row CSV files in bounded memory', async () => {
    const rows = 1_000_000;
    const left = join(dir, 'big-left.csv');
    const right = join(dir, 'big-right.csv');
    const line = (id: number, price: number) => `${id},item-${id},${price.toFixed(3)},${id % 97}\n`;
    const write = async (file: string, ids: Iterable<number>, priceOf: (id: number) => number) => {
      const stream = createWriteStream(file);
      let chunk = 'id,name,price,qty\n';
      for (const id of ids) {
        chunk += line(id, priceOf(id));
        if (chunk.length > 65_536) {
          if (!stream.write(chunk)) await once(stream, 'drain');
          chunk = '';
        }
      }
      stream.end(chunk);
      await once(stream, 'close');
    };
    const basePrice = (id: number) => (id % 1000) + 0.25;
    function* ascending() {
      for (let id = 1; id <= rows; id++) yield id;
    }
    // The right side: in reverse order, 10 prices changed beyond the tolerance, 10 within it,
    // 5 rows removed and 5 added.
    function* descending() {
      for (let id = rows + 5; id >= 1; id--) if (id < 500_000 || id >= 500_005) yield id;
    }
    const rightPrice = (id: number) =>
      id >= 10 && id < 20
        ? basePrice(id) + 0.5
        : id >= 100 && id < 110
          ? basePrice(id) + 0.001
          : basePrice(id);
    await write(left, ascending(), basePrice);
    await write(right, descending(), rightPrice);

    // A fresh process whose V8 heap is capped: holding either side in memory (some 200 MB of
    // row objects) would crash it, and its RSS growth is not blurred by this worker's garbage.
    const startedAt = Date.now();
    const { outcome, growthMb } = await compareInChild({
      left: { path: left },
      right: { path: right },
      key: ['id'],
      tolerances: { price: { abs: 0.01 } },
      sample_size: 5,
    });
    console.log(
      `1M-row compare: ${((Date.now() - startedAt) / 1000).toFixed(1)} s, peak RSS growth ${growthMb.toFixed(0)} MB`,
    );

    expect(outcome.status).toBe('failed');
    expect(Object.fromEntries(outcome.metrics.map((entry) => [entry.name, entry.value]))).toEqual({
      left_rows: rows,
      right_rows: rows,
      added_rows: 5,
      removed_rows: 5,
      changed_rows: 10,
      unchanged_rows: rows - 15,
      duplicate_keys: 0,
    });
    expect(outcome.error_message).toMatch(
      /^the datasets differ: 5 added, 5 removed, 10 changed rows \(1000000 left rows, 1000000 right rows\); added: id=100000\d(; id=100000\d){2}; removed: id=50000\d(; id=50000\d){2}; changed: id=1\d price "1\d\.250" → "1\d\.750";/,
    );
    expect(growthMb).toBeLessThan(MEMORY_BOUND_MB);
  }, 180_000);
});
