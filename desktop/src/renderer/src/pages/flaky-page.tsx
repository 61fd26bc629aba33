import { Anchor, Badge, Card, Progress, Table, Text } from '@mantine/core';
import { Link } from 'react-router';
import type { ExecutionWithResults } from '@webguard/shared';
import type { ApiClient } from '../api/client';
import { useApi } from '../api/use-api';
import { EmptyState, ErrorState, Loading } from '../components/page-state';
import { formatWhen } from '../components/status';
import { isFinalStatus } from '../live/run-view';
import { PageHeader } from './page-header';

/** How many recent finished runs the flaky view looks at. */
const WINDOW = 30;

export interface FlakyTest {
  suite: string;
  test: string;
  runs: number;
  failures: number;
  retried_passes: number;
  last_run_id: number;
  last_seen: string;
}

/**
 * A test is flaky when, in the same suite and with nothing else known to change, it both passed
 * and failed across recent runs, or passed only after a retry.
 */
export function findFlaky(executions: ExecutionWithResults[]): FlakyTest[] {
  const byTest = new Map<string, FlakyTest & { passes: number }>();
  for (const run of executions) {
    for (const result of run.results) {
      if (result.status === 'skipped') continue;
      const key = `${run.suite_name}\u0000${result.test_name}`;
      const entry = byTest.get(key) ?? {
        suite: run.suite_name,
        test: result.test_name,
        runs: 0,
        failures: 0,
        passes: 0,
        retried_passes: 0,
        last_run_id: run.id,
        last_seen: run.created_at,
      };
      entry.runs += 1;
      if (result.status === 'passed') entry.passes += 1;
      else entry.failures += 1;
      if (result.flaky) entry.retried_passes += 1;
      if (run.id > entry.last_run_id) {
        entry.last_run_id = run.id;
        entry.last_seen = run.created_at;
      }
      byTest.set(key, entry);
    }
  }
  return [...byTest.values()]
    .filter((entry) => entry.retried_passes > 0 || (entry.passes > 0 && entry.failures > 0))
    .map(({ passes: _passes, ...entry }) => entry)
    .sort((a, b) => b.retried_passes + b.failures - (a.retried_passes + a.failures));
}

async function loadFlaky(client: ApiClient): Promise<FlakyTest[]> {
  const list = await client.listExecutions({ limit: 100 });
  const finished = list.items.filter((run) => isFinalStatus(run.status)).slice(0, WINDOW);
  return findFlaky(await Promise.all(finished.map((run) => client.getExecution(run.id))));
}

export function FlakyPage() {
  const { data, error, loading, reload } = useApi(loadFlaky, []);
  return (
    <>
      <PageHeader
        title="Flaky tests"
        subtitle={`Tests that passed and failed, or passed only on a retry, in the last ${WINDOW} finished runs`}
      />
      <Card withBorder radius="md">
        {loading && !data ? (
          <Loading label="Looking through recent runs…" />
        ) : error && !data ? (
          <ErrorState error={error} onRetry={reload} what="flaky tests" />
        ) : !data || data.length === 0 ? (
          <EmptyState title="No flaky tests">
            Every test in recent runs either always passed or always failed. Good news.
          </EmptyState>
        ) : (
          <Table verticalSpacing="sm" data-testid="flaky-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Test</Table.Th>
                <Table.Th>Suite</Table.Th>
                <Table.Th>Failure rate</Table.Th>
                <Table.Th>Passed on retry</Table.Th>
                <Table.Th>Last run</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.map((entry) => (
                <Table.Tr key={`${entry.suite}/${entry.test}`}>
                  <Table.Td fw={500}>{entry.test}</Table.Td>
                  <Table.Td>{entry.suite}</Table.Td>
                  <Table.Td w={220}>
                    <Progress value={(entry.failures / entry.runs) * 100} color="red" size="sm" />
                    <Text size="xs" c="dimmed">
                      {entry.failures} of {entry.runs} runs failed
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    {entry.retried_passes > 0 ? (
                      <Badge color="grape" variant="light">
                        {entry.retried_passes}×
                      </Badge>
                    ) : (
                      '—'
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Anchor component={Link} to={`/runs/${entry.last_run_id}`}>
                      #{entry.last_run_id}
                    </Anchor>{' '}
                    <Text span size="xs" c="dimmed">
                      {formatWhen(entry.last_seen)}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
    </>
  );
}
