import {
  Anchor,
  Badge,
  Card,
  Group,
  Progress,
  SegmentedControl,
  Table,
  Text,
  Tooltip,
} from '@mantine/core';
import { useState } from 'react';
import { Link } from 'react-router';
import { useApi } from '../api/use-api';
import { EmptyState, ErrorState, Loading } from '../components/page-state';
import { formatWhen } from '../components/status';
import { PageHeader } from './page-header';

const WINDOWS = ['7', '30', '90'];

/** The server's flaky ranking: cases that passed only on a retry or flipped between runs. */
export function FlakyPage() {
  const [days, setDays] = useState('30');
  const { data, error, loading, reload } = useApi(
    (client) => client.flaky({ days: Number(days), limit: 100 }),
    [days],
  );
  return (
    <>
      <PageHeader
        title="Flaky tests"
        subtitle="Cases that passed only after a retry, or went from passing to failing and back without a change of branch"
        actions={
          <SegmentedControl
            value={days}
            onChange={setDays}
            data={WINDOWS.map((value) => ({ value, label: `${value} days` }))}
          />
        }
      />
      <Card withBorder radius="md">
        {loading && !data ? (
          <Loading label="Ranking flaky tests…" />
        ) : error && !data ? (
          <ErrorState error={error} onRetry={reload} what="flaky tests" />
        ) : !data || data.items.length === 0 ? (
          <EmptyState title="No flaky tests">
            In the last {days} days every case either kept passing or kept failing. Good news.
          </EmptyState>
        ) : (
          <Table verticalSpacing="sm" data-testid="flaky-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Test</Table.Th>
                <Table.Th>Suite</Table.Th>
                <Table.Th>Flake rate</Table.Th>
                <Table.Th>Failures</Table.Th>
                <Table.Th>Passed on retry</Table.Th>
                <Table.Th>Flips</Table.Th>
                <Table.Th>Last seen</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.items.map((entry) => (
                <Table.Tr key={`${entry.suite_id}/${entry.test_name}`}>
                  <Table.Td fw={500}>{entry.test_name}</Table.Td>
                  <Table.Td>
                    <Anchor component={Link} to={`/suites/${entry.suite_id}`}>
                      {entry.suite_name}
                    </Anchor>
                  </Table.Td>
                  <Table.Td w={200}>
                    <Group gap="xs" wrap="nowrap">
                      <Progress
                        value={entry.flake_rate * 100}
                        color="grape"
                        size="sm"
                        style={{ flex: 1 }}
                      />
                      <Text size="xs" w={36} ta="right">
                        {Math.round(entry.flake_rate * 100)}%
                      </Text>
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">
                      {entry.failures} / {entry.runs} runs
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
                    <Tooltip label="pass↔fail changes between consecutive runs of one branch">
                      <Text size="sm">{entry.flips}</Text>
                    </Tooltip>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" c="dimmed">
                      {formatWhen(entry.last_seen_at)}
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
