import {
  Anchor,
  Card,
  Group,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  Text,
  ThemeIcon,
  Title,
  Tooltip as HelpTip,
} from '@mantine/core';
import {
  IconClockHour4,
  IconPercentage,
  IconPlayerPlay,
  IconServer,
  IconStack2,
} from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import {
  Bar,
  CartesianGrid,
  ComposedChart,
  Line,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { Execution } from '@webguard/shared';
import { useApi } from '../api/use-api';
import { EmptyState, ErrorState, Loading } from '../components/page-state';
import { StatusBadge, formatDuration, formatWhen } from '../components/status';
import { isFinalStatus } from '../live/run-view';
import { useLive } from '../stores/live';
import { PageHeader } from './page-header';

function StatCard({
  label,
  value,
  hint,
  icon,
  color,
  testid,
}: {
  label: string;
  value: ReactNode;
  hint: ReactNode;
  icon: ReactNode;
  color: string;
  testid: string;
}) {
  return (
    <Paper withBorder p="md" radius="md">
      <Group justify="space-between" align="flex-start" wrap="nowrap">
        <Stack gap={2}>
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
            {label}
          </Text>
          <Text fw={700} fz={28} data-testid={testid}>
            {value}
          </Text>
          <Text size="xs" c="dimmed">
            {hint}
          </Text>
        </Stack>
        <ThemeIcon variant="light" color={color} size={38} radius="md">
          {icon}
        </ThemeIcon>
      </Group>
    </Paper>
  );
}

/** Pass rate and duration of the last finished runs, oldest first, for the trend chart. */
export function trendOf(executions: Execution[]) {
  return executions
    .filter((run) => isFinalStatus(run.status) && run.total_tests > 0)
    .slice(0, 30)
    .reverse()
    .map((run) => ({
      label: `#${run.id}`,
      pass_rate: Math.round((run.passed_tests / run.total_tests) * 100),
      duration_s: run.execution_time_ms === null ? 0 : Math.round(run.execution_time_ms / 100) / 10,
    }));
}

export function DashboardPage() {
  const tick = useLive((state) => state.tick);
  const live = useLive((state) => state.status);
  // Polls while live updates are off; with them on, a tick reloads when the running set changes.
  const runningKey = tick?.running_executions.join(',') ?? '';
  const { data, error, loading, reload } = useApi(
    (client) => client.listExecutions({ limit: 100 }),
    [runningKey],
    { pollMs: live === 'online' ? 15_000 : 4000 },
  );

  if (loading && !data) return <Loading label="Loading the dashboard…" />;
  if (error && !data) return <ErrorState error={error} onRetry={reload} what="the dashboard" />;
  const runs = data?.items ?? [];
  const finished = runs.filter((run) => isFinalStatus(run.status));
  const totals = finished.reduce(
    (sum, run) => ({ passed: sum.passed + run.passed_tests, total: sum.total + run.total_tests }),
    { passed: 0, total: 0 },
  );
  const passRate =
    totals.total === 0 ? null : Math.round((totals.passed / totals.total) * 1000) / 10;
  const durations = finished
    .map((run) => run.execution_time_ms)
    .filter((ms): ms is number => ms !== null);
  const avg =
    durations.length === 0
      ? null
      : Math.round(durations.reduce((a, b) => a + b, 0) / durations.length);
  const inProgress = runs.filter((run) => !isFinalStatus(run.status));
  const queueDepth = tick
    ? Object.values(tick.queues).reduce(
        (sum, depth) => sum + (depth.waiting ?? 0) + (depth.delayed ?? 0),
        0,
      )
    : null;
  const trend = trendOf(runs);

  return (
    <>
      <PageHeader
        title="Dashboard"
        subtitle={
          runs.length === 1
            ? 'The one run on this server'
            : `The last ${runs.length} runs on this server`
        }
      />
      <SimpleGrid cols={{ base: 2, lg: 5 }} mb="lg">
        <StatCard
          label="Pass rate"
          value={passRate === null ? '—' : `${passRate}%`}
          hint={`${totals.passed} of ${totals.total} cases passed`}
          icon={<IconPercentage size={20} />}
          color="teal"
          testid="stat-pass-rate"
        />
        <StatCard
          label="Avg duration"
          value={formatDuration(avg)}
          hint={`over ${durations.length} finished run${durations.length === 1 ? '' : 's'}`}
          icon={<IconClockHour4 size={20} />}
          color="blue"
          testid="stat-duration"
        />
        <StatCard
          label="In progress"
          value={inProgress.length}
          hint={`${tick?.active_tests ?? '—'} cases running now`}
          icon={<IconPlayerPlay size={20} />}
          color="indigo"
          testid="stat-in-progress"
        />
        <StatCard
          label="Queue depth"
          value={queueDepth ?? '—'}
          hint={tick ? 'jobs waiting or delayed' : 'needs the live connection'}
          icon={<IconStack2 size={20} />}
          color="orange"
          testid="stat-queue"
        />
        <StatCard
          label="Workers online"
          value={tick ? tick.workers_online : '—'}
          hint={tick ? 'worker processes' : 'needs the live connection'}
          icon={<IconServer size={20} />}
          color="grape"
          testid="stat-workers"
        />
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, lg: 3 }}>
        <Card withBorder radius="md" style={{ gridColumn: 'span 2' }}>
          <Group justify="space-between" mb="sm">
            <Title order={4}>Pass rate and duration</Title>
            <Text size="xs" c="dimmed">
              last {trend.length} finished runs
            </Text>
          </Group>
          {trend.length === 0 ? (
            <EmptyState title="No finished runs yet">
              Trigger a suite and its trend shows up here.
            </EmptyState>
          ) : (
            <div style={{ height: 260 }} data-testid="trend-chart">
              <ResponsiveContainer>
                <ComposedChart data={trend} margin={{ top: 8, right: 8, bottom: 0, left: -12 }}>
                  <CartesianGrid stroke="#eee" vertical={false} />
                  <XAxis dataKey="label" tick={{ fontSize: 11 }} />
                  <YAxis yAxisId="rate" domain={[0, 100]} tick={{ fontSize: 11 }} unit="%" />
                  <YAxis yAxisId="time" orientation="right" tick={{ fontSize: 11 }} unit="s" />
                  <Tooltip />
                  <Bar
                    yAxisId="time"
                    dataKey="duration_s"
                    name="duration (s)"
                    maxBarSize={32}
                    fill="#c5d0fa"
                    radius={[3, 3, 0, 0]}
                    isAnimationActive={false}
                  />
                  <Line
                    yAxisId="rate"
                    dataKey="pass_rate"
                    name="pass rate (%)"
                    stroke="#12b886"
                    strokeWidth={2}
                    dot={{ r: 3 }}
                    isAnimationActive={false}
                  />
                </ComposedChart>
              </ResponsiveContainer>
            </div>
          )}
        </Card>
        <Card withBorder radius="md">
          <Title order={4} mb="sm">
            Runs in progress
          </Title>
          {inProgress.length === 0 ? (
            <Text size="sm" c="dimmed" data-testid="no-runs-in-progress">
              Nothing is running.
            </Text>
          ) : (
            <Stack gap="xs">
              {inProgress.map((run) => (
                <Group key={run.id} justify="space-between">
                  <Anchor component={Link} to={`/runs/${run.id}`} size="sm">
                    {run.suite_name} #{run.id}
                  </Anchor>
                  <StatusBadge status={run.status} size="xs" />
                </Group>
              ))}
            </Stack>
          )}
        </Card>
      </SimpleGrid>
      <DailyTrend refresh={runs[0]?.id ?? 0} />
      <Card withBorder radius="md" mt="lg">
        <Title order={4} mb="sm">
          Recent runs
        </Title>
        {runs.length === 0 ? (
          <EmptyState title="No runs yet">
            Open{' '}
            <Anchor component={Link} to="/suites">
              Suites
            </Anchor>
            , build one from skills and press Run.
          </EmptyState>
        ) : (
          <RunsTable runs={runs.slice(0, 8)} />
        )}
      </Card>
    </>
  );
}

/** Pass rate and P95 duration per day over two weeks, from the server's reports. */
function DailyTrend({ refresh }: { refresh: number }) {
  const { data, error } = useApi((client) => client.trends({ days: 14 }), [refresh]);
  const points = (data?.points ?? []).map((point) => ({
    day: new Date(`${point.day}T00:00:00`).toLocaleDateString(undefined, {
      month: 'short',
      day: 'numeric',
    }),
    pass_rate: point.pass_rate,
    p95_s: point.p95_duration_ms === null ? null : Math.round(point.p95_duration_ms / 100) / 10,
    executions: point.executions,
  }));
  return (
    <Card withBorder radius="md" mt="lg">
      <Group justify="space-between" mb="sm">
        <Title order={4}>Last 14 days</Title>
        {data && (
          <Text size="xs" c="dimmed">
            {data.totals.executions} runs · pass rate{' '}
            {data.totals.pass_rate === null ? '—' : `${Math.round(data.totals.pass_rate)}%`} · P95{' '}
            {formatDuration(
              data.totals.p95_duration_ms === null ? null : Math.round(data.totals.p95_duration_ms),
            )}{' '}
            · {data.totals.flaky_cases} flaky
          </Text>
        )}
      </Group>
      {error ? (
        <Text size="sm" c="dimmed">
          Daily trends are unavailable: {error.message}
        </Text>
      ) : points.length === 0 ? (
        <Text size="sm" c="dimmed">
          No finished runs in the last 14 days.
        </Text>
      ) : (
        <div style={{ height: 200 }} data-testid="daily-trend">
          <ResponsiveContainer>
            <ComposedChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: -12 }}>
              <CartesianGrid stroke="#eee" vertical={false} />
              <XAxis dataKey="day" tick={{ fontSize: 11 }} />
              <YAxis yAxisId="rate" domain={[0, 100]} tick={{ fontSize: 11 }} unit="%" />
              <YAxis yAxisId="time" orientation="right" tick={{ fontSize: 11 }} unit="s" />
              <Tooltip />
              <Bar
                yAxisId="time"
                dataKey="p95_s"
                name="P95 duration (s)"
                fill="#ffd8a8"
                maxBarSize={32}
                radius={[3, 3, 0, 0]}
                isAnimationActive={false}
              />
              <Line
                yAxisId="rate"
                dataKey="pass_rate"
                name="runs passed (%)"
                stroke="#4c6ef5"
                strokeWidth={2}
                dot={{ r: 3 }}
                isAnimationActive={false}
              />
            </ComposedChart>
          </ResponsiveContainer>
        </div>
      )}
    </Card>
  );
}

export function RunsTable({ runs }: { runs: Execution[] }) {
  return (
    <Table highlightOnHover verticalSpacing="xs" data-testid="runs-table">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Run</Table.Th>
          <Table.Th>Suite</Table.Th>
          <Table.Th>Status</Table.Th>
          <Table.Th>Cases</Table.Th>
          <Table.Th>Duration</Table.Th>
          <Table.Th>Trigger</Table.Th>
          <Table.Th>Created</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {runs.map((run) => (
          <Table.Tr key={run.id}>
            <Table.Td>
              <Anchor component={Link} to={`/runs/${run.id}`} data-testid="run-link">
                #{run.id}
              </Anchor>
            </Table.Td>
            <Table.Td>{run.suite_name}</Table.Td>
            <Table.Td>
              <StatusBadge status={run.status} size="xs" />
            </Table.Td>
            <Table.Td>
              <HelpTip
                label={`${run.passed_tests} passed, ${run.failed_tests} failed, ${run.skipped_tests} skipped`}
              >
                <Text size="sm">
                  <Text span c="teal.7" fw={600}>
                    {run.passed_tests}
                  </Text>{' '}
                  / {run.total_tests}
                  {run.failed_tests > 0 && (
                    <Text span c="red.7">
                      {' '}
                      · {run.failed_tests} failed
                    </Text>
                  )}
                </Text>
              </HelpTip>
            </Table.Td>
            <Table.Td>{formatDuration(run.execution_time_ms)}</Table.Td>
            <Table.Td>
              <Text size="sm" c="dimmed">
                {run.triggered_by}
                {run.ci_branch ? ` · ${run.ci_branch}` : ''}
              </Text>
            </Table.Td>
            <Table.Td>
              <Text size="sm" c="dimmed">
                {formatWhen(run.created_at)}
              </Text>
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
