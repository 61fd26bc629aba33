import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../../test/support/test-runtime.js';
import { waitFor } from '../../test/support/wait-for.js';
import { readZip } from '../../test/support/zip.js';

/** The Allure report of a finished run as a zip of an `allure-results` folder. */
let t: TestRuntime;
let executionId: number;
const EVIDENCE = 'the page said: total was 3\n';

beforeAll(async () => {
  t = await startTestRuntime({}, { workers: ['executions', 'api'] });
  const suiteId = await t.suiteWith({ name: 'allure' }, [
    { name: 'fine', skill_name: 'echo' },
    { name: 'broken', skill_name: 'fail', params: { message: 'total was 3', evidence: EVIDENCE } },
  ]);
  executionId = (
    await t.inject({ method: 'POST', url: '/api/v1/executions', payload: { suite_id: suiteId } })
  ).json<{ execution_id: number }>().execution_id;
  await waitFor(
    async () =>
      (await t.inject(`/api/v1/executions/${executionId}`)).json<{ completed_at: string | null }>()
        .completed_at ?? undefined,
    { what: `execution ${executionId} to end` },
  );
});

afterAll(async () => {
  await t?.stop();
});

interface ResultFile {
  uuid: string;
  name: string;
  status: string;
  attachments: { name: string; source: string; type: string }[];
}

describe('Allure results as a zip', () => {
  it('holds result, container and attachment files, flat, as allure generate reads them', async () => {
    const response = await t.inject(`/api/v1/executions/${executionId}/report/allure?format=zip`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe('application/zip');
    expect(response.headers['content-disposition']).toBe(
      `attachment; filename="webguard-${executionId}-allure-results.zip"`,
    );
    const files = readZip(response.rawPayload);
    const names = [...files.keys()];
    expect(names.every((name) => !name.includes('/'))).toBe(true);

    const results = names
      .filter((name) => name.endsWith('-result.json'))
      .map((name) => {
        const result = JSON.parse(files.get(name)!.toString('utf8')) as ResultFile;
        expect(name).toBe(`${result.uuid}-result.json`);
        return result;
      });
    expect(results.map((result) => [result.name, result.status]).sort()).toEqual([
      ['broken', 'failed'],
      ['fine', 'passed'],
    ]);

    const containers = names.filter((name) => name.endsWith('-container.json'));
    expect(containers).toHaveLength(1);
    const container = JSON.parse(files.get(containers[0]!)!.toString('utf8')) as {
      uuid: string;
      children: string[];
    };
    expect(containers[0]).toBe(`${container.uuid}-container.json`);
    expect(container.children.sort()).toEqual(results.map((result) => result.uuid).sort());

    // Every attachment a result names is in the zip, the artifact with its exact bytes.
    const referenced = results.flatMap((result) => result.attachments);
    for (const attachment of referenced)
      expect(files.has(attachment.source), attachment.source).toBe(true);
    const evidence = referenced.find((attachment) => attachment.name === 'evidence.txt');
    expect(evidence?.type).toBe('text/plain');
    expect(files.get(evidence!.source)!.toString('utf8')).toBe(EVIDENCE);

    expect(files.get('environment.properties')!.toString('utf8')).toContain(
      `webguard.execution=${executionId}`,
    );
  });

  it('answers the zip for Accept: application/zip, and JSON otherwise', async () => {
    const zipped = await t.inject({
      url: `/api/v1/executions/${executionId}/report/allure`,
      headers: { accept: 'application/zip' },
    });
    expect(zipped.headers['content-type']).toBe('application/zip');
    expect(readZip(zipped.rawPayload).has('environment.properties')).toBe(true);

    const json = await t.inject(`/api/v1/executions/${executionId}/report/allure`);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    const body = json.json<{ results: unknown[]; containers: { children: string[] }[] }>();
    expect(body.results).toHaveLength(2);
    expect(body.containers[0]!.children).toHaveLength(2);

    const explicit = await t.inject({
      url: `/api/v1/executions/${executionId}/report/allure?format=json`,
      headers: { accept: 'application/zip' },
    });
    expect(explicit.headers['content-type']).toMatch(/^application\/json/);

    const bad = await t.inject(`/api/v1/executions/${executionId}/report/allure?format=tar`);
    expect(bad.statusCode).toBe(400);
    expect((await t.inject('/api/v1/executions/999999/report/allure?format=zip')).statusCode).toBe(
      404,
    );
  });
});
