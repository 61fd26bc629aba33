import {
  Badge,
  Box,
  Button,
  Card,
  Code,
  Group,
  Image,
  Paper,
  Progress,
  ScrollArea,
  SimpleGrid,
  Stack,
  Table,
  Tabs,
  Text,
  ThemeIcon,
  Title,
  Tooltip,
} from '@mantine/core';
import { IconCheck, IconDownload, IconLoader2, IconPhoto, IconX } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import type { CaseView, RunView, StepView } from '../live/run-view';
import { isFinalStatus } from '../live/run-view';
import { EmptyState } from './page-state';
import { StatusBadge, formatDuration, formatWhen, statusColor } from './status';

/** An artifact with an address the page can show or download without credentials. */
export interface ResolvedArtifact {
  kind: string;
  name: string;
  content_type: string;
  src: string;
}

export interface RunLiveViewProps {
  run: RunView;
  /** Turns a case's artifacts into viewable links (signed links on a server, data URLs locally). */
  resolveArtifacts: (item: CaseView) => Promise<ResolvedArtifact[]>;
  /** Whether live updates are flowing, to say so next to the header. */
  liveLabel?: string | null;
}

function StepIcon({ step }: { step: StepView }) {
  if (step.status === 'running')
    return (
      <ThemeIcon size={20} radius="xl" variant="light" color="indigo">
        <IconLoader2 size={12} />
      </ThemeIcon>
    );
  return step.status === 'passed' ? (
    <ThemeIcon size={20} radius="xl" color="teal">
      <IconCheck size={12} />
    </ThemeIcon>
  ) : (
    <ThemeIcon size={20} radius="xl" color="red">
      <IconX size={12} />
    </ThemeIcon>
  );
}

const LOG_COLORS: Record<string, string> = {
  debug: 'gray',
  info: 'blue',
  warn: 'yellow',
  error: 'red',
};

function Artifacts({
  item,
  resolve,
}: {
  item: CaseView;
  resolve: RunLiveViewProps['resolveArtifacts'];
}) {
  const [artifacts, setArtifacts] = useState<ResolvedArtifact[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const key = `${item.name}:${item.result_id ?? ''}:${item.artifacts.length}`;
  useEffect(() => {
    let cancelled = false;
    setProblem(null);
    resolve(item).then(
      (list) => !cancelled && setArtifacts(list),
      (error: unknown) =>
        !cancelled && setProblem(error instanceof Error ? error.message : String(error)),
    );
    return () => {
      cancelled = true;
    };
    // Resolve again only when the case gains artifacts or its stored result.
  }, [key]);
  if (problem)
    return (
      <Text c="red" size="sm">
        {problem}
      </Text>
    );
  if (!artifacts)
    return (
      <Text c="dimmed" size="sm">
        Loading files…
      </Text>
    );
  const screenshots = artifacts.filter((artifact) => artifact.kind === 'screenshot');
  const videos = artifacts.filter((artifact) => artifact.kind === 'video');
  const others = artifacts.filter(
    (artifact) => artifact.kind !== 'screenshot' && artifact.kind !== 'video',
  );
  if (artifacts.length === 0) {
    return (
      <EmptyState title="No files yet">
        Screenshots, video and the Playwright trace appear here when the case saves them.
      </EmptyState>
    );
  }
  return (
    <Stack>
      {screenshots.length > 0 && (
        <SimpleGrid cols={{ base: 1, md: 2 }} data-testid="screenshot-gallery">
          {screenshots.map((shot) => (
            <Card key={shot.src} withBorder padding="xs">
              <Card.Section>
                <a href={shot.src} target="_blank" rel="noreferrer">
                  <Image
                    src={shot.src}
                    alt={shot.name}
                    data-testid="screenshot"
                    fit="contain"
                    mah={320}
                    bg="gray.1"
                  />
                </a>
              </Card.Section>
              <Text size="xs" c="dimmed" mt={6}>
                {shot.name}
              </Text>
            </Card>
          ))}
        </SimpleGrid>
      )}
      {videos.map((video) => (
        <video
          key={video.src}
          src={video.src}
          controls
          style={{ width: '100%', borderRadius: 8 }}
          data-testid="video"
        />
      ))}
      {others.length > 0 && (
        <Group>
          {others.map((file) => (
            <Button
              key={file.src}
              component="a"
              href={file.src}
              download={file.name}
              variant="default"
              size="xs"
              leftSection={<IconDownload size={14} />}
            >
              {file.kind === 'trace' ? `Playwright trace (${file.name})` : file.name}
            </Button>
          ))}
        </Group>
      )}
      {others.some((file) => file.kind === 'trace') && (
        <Text size="xs" c="dimmed">
          Open a trace with <Code>npx playwright show-trace FILE</Code> or at trace.playwright.dev.
        </Text>
      )}
    </Stack>
  );
}

function CaseDetail({
  item,
  run,
  resolve,
}: {
  item: CaseView;
  run: RunView;
  resolve: RunLiveViewProps['resolveArtifacts'];
}) {
  const frame = run.frames[item.name];
  const failed = item.error_message !== null && item.state !== 'passed';
  return (
    <Paper withBorder p="md" radius="md" data-testid="case-detail">
      <Group justify="space-between" mb="sm">
        <Group gap="xs">
          <Title order={4}>{item.name}</Title>
          <StatusBadge status={item.state} />
          {item.flaky && (
            <Badge color="grape" variant="light">
              flaky
            </Badge>
          )}
          {item.attempt > 1 && (
            <Badge variant="outline" color="gray">
              attempt {item.attempt}
            </Badge>
          )}
        </Group>
        <Text size="sm" c="dimmed">
          {item.skill_name} · {formatDuration(item.duration_ms)}
        </Text>
      </Group>
      {failed && (
        <Paper bg="red.0" p="sm" radius="sm" mb="sm" data-testid="case-error">
          <Text fw={600} c="red.8" size="sm">
            {item.error_type ? `${item.error_type} error` : 'error'}: {item.error_message}
          </Text>
          {item.stack_trace && (
            <ScrollArea.Autosize mah={180} mt="xs">
              <Code block fz="xs" bg="transparent">
                {item.stack_trace}
              </Code>
            </ScrollArea.Autosize>
          )}
        </Paper>
      )}
      {frame && item.state === 'running' && (
        <Box mb="sm" data-testid="live-frame">
          <Text size="xs" c="dimmed" mb={4}>
            Live browser
          </Text>
          <Image
            src={`data:image/jpeg;base64,${frame.data}`}
            alt="live browser"
            radius="sm"
            fit="contain"
            mah={360}
          />
        </Box>
      )}
      <Tabs defaultValue={failed ? 'files' : 'steps'} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="steps">Steps ({item.steps.length})</Tabs.Tab>
          <Tabs.Tab value="logs">Logs ({item.logs.length})</Tabs.Tab>
          <Tabs.Tab value="files" leftSection={<IconPhoto size={14} />} data-testid="tab-files">
            Screenshots & files
          </Tabs.Tab>
          <Tabs.Tab value="metrics">Metrics ({item.metrics.length})</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="steps" pt="sm">
          {item.steps.length === 0 ? (
            <Text c="dimmed" size="sm">
              No steps {item.state === 'running' || item.state === 'queued' ? 'yet' : 'recorded'}.
            </Text>
          ) : (
            <Stack gap={6} data-testid="steps">
              {item.steps.map((step, index) => (
                <Group key={`${step.name}-${index}`} gap="sm" wrap="nowrap" align="flex-start">
                  <StepIcon step={step} />
                  <Box style={{ flex: 1 }}>
                    <Text size="sm">{step.name}</Text>
                    {step.error && (
                      <Text size="xs" c="red">
                        {step.error}
                      </Text>
                    )}
                  </Box>
                  <Text size="xs" c="dimmed">
                    {formatDuration(step.duration_ms)}
                  </Text>
                </Group>
              ))}
            </Stack>
          )}
        </Tabs.Panel>
        <Tabs.Panel value="logs" pt="sm">
          {item.logs.length === 0 ? (
            <Text c="dimmed" size="sm">
              No log lines.
            </Text>
          ) : (
            <ScrollArea.Autosize mah={320}>
              <Stack gap={2} ff="monospace" data-testid="logs">
                {item.logs.map((entry, index) => (
                  <Group key={index} gap="xs" wrap="nowrap" align="flex-start">
                    <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
                      {new Date(entry.time).toLocaleTimeString()}
                    </Text>
                    <Badge size="xs" variant="light" color={LOG_COLORS[entry.level]} w={48}>
                      {entry.level}
                    </Badge>
                    <Text size="xs" style={{ wordBreak: 'break-word' }}>
                      {entry.message}
                      {entry.data && Object.keys(entry.data).length > 0 && (
                        <Text span c="dimmed">
                          {' '}
                          {JSON.stringify(entry.data)}
                        </Text>
                      )}
                    </Text>
                  </Group>
                ))}
              </Stack>
            </ScrollArea.Autosize>
          )}
        </Tabs.Panel>
        <Tabs.Panel value="files" pt="sm">
          <Artifacts item={item} resolve={resolve} />
        </Tabs.Panel>
        <Tabs.Panel value="metrics" pt="sm">
          {item.metrics.length === 0 ? (
            <Text c="dimmed" size="sm">
              No metrics.
            </Text>
          ) : (
            <Table striped withTableBorder>
              <Table.Tbody>
                {item.metrics.map((metric, index) => (
                  <Table.Tr key={`${metric.name}-${index}`}>
                    <Table.Td>{metric.name}</Table.Td>
                    <Table.Td ta="right" ff="monospace">
                      {Number.isInteger(metric.value) ? metric.value : metric.value.toFixed(2)}{' '}
                      {metric.unit ?? ''}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Tabs.Panel>
      </Tabs>
    </Paper>
  );
}

/**
 * The live run view, shared by cluster runs and local runs: header with progress, the cases as
 * they queue, start and finish, and the selected case's steps, logs, files, metrics and frames.
 */
export function RunLiveView({ run, resolveArtifacts, liveLabel }: RunLiveViewProps) {
  const [selected, setSelected] = useState<string | null>(null);
  const done = run.cases.filter(
    (item) => item.state !== 'queued' && item.state !== 'running',
  ).length;
  const total = Math.max(run.total, run.cases.length);
  const percent = total === 0 ? (isFinalStatus(run.status) ? 100 : 0) : (done / total) * 100;
  const current =
    run.cases.find((item) => item.name === selected) ??
    run.cases.find((item) => item.state === 'running') ??
    run.cases.find((item) => item.state !== 'passed' && item.state !== 'queued') ??
    run.cases[0];
  const counts = {
    passed: run.cases.filter((item) => item.state === 'passed').length,
    failed: run.cases.filter((item) => ['failed', 'error', 'timeout'].includes(item.state)).length,
    skipped: run.cases.filter((item) => item.state === 'skipped').length,
  };
  return (
    <Stack data-testid="run-view" data-run-status={run.status}>
      <Paper withBorder p="md" radius="md">
        <Group justify="space-between" align="flex-start">
          <Stack gap={4}>
            <Group gap="xs">
              <Title order={3}>{run.suite_name ?? 'Run'}</Title>
              <Text c="dimmed">#{run.execution_id}</Text>
              <StatusBadge status={run.status} size="lg" />
            </Group>
            <Text size="sm" c="dimmed">
              Started {formatWhen(run.started_at)} · {formatDuration(run.duration_ms)}
              {liveLabel ? ` · ${liveLabel}` : ''}
            </Text>
          </Stack>
          <Group gap="lg">
            <Stat label="passed" value={counts.passed} color="teal" />
            <Stat label="failed" value={counts.failed} color="red" />
            <Stat label="skipped" value={counts.skipped} color="gray" />
            <Stat label="total" value={total} color="dark" />
          </Group>
        </Group>
        <Progress.Root size="lg" mt="md" radius="xl">
          <Tooltip label={`${counts.passed} passed`}>
            <Progress.Section value={total ? (counts.passed / total) * 100 : 0} color="teal" />
          </Tooltip>
          <Tooltip label={`${counts.failed} failed`}>
            <Progress.Section value={total ? (counts.failed / total) * 100 : 0} color="red" />
          </Tooltip>
          <Tooltip label={`${counts.skipped} skipped`}>
            <Progress.Section value={total ? (counts.skipped / total) * 100 : 0} color="gray" />
          </Tooltip>
          {!isFinalStatus(run.status) && (
            <Progress.Section
              value={Math.max(0, 100 - percent)}
              color="indigo.1"
              animated
              striped
            />
          )}
        </Progress.Root>
      </Paper>
      {run.cases.length === 0 ? (
        <Paper withBorder radius="md">
          <EmptyState
            title={isFinalStatus(run.status) ? 'No cases ran' : 'Waiting for the first case'}
          >
            {isFinalStatus(run.status)
              ? 'This run finished without running a case.'
              : 'Cases appear here as workers pick them up.'}
          </EmptyState>
        </Paper>
      ) : (
        <Group align="flex-start" gap="md" wrap="nowrap">
          <Paper withBorder radius="md" w={340} style={{ flexShrink: 0 }}>
            <Stack gap={0} data-testid="case-list">
              {run.cases.map((item) => (
                <Box
                  key={item.name}
                  px="md"
                  py="sm"
                  data-testid="case-row"
                  data-case={item.name}
                  data-state={item.state}
                  onClick={() => setSelected(item.name)}
                  style={{
                    cursor: 'pointer',
                    borderLeft: `3px solid var(--mantine-color-${statusColor(item.state)}-6)`,
                    background:
                      current?.name === item.name ? 'var(--mantine-color-gray-0)' : undefined,
                    borderBottom: '1px solid var(--mantine-color-gray-2)',
                  }}
                >
                  <Group justify="space-between" wrap="nowrap">
                    <Box style={{ minWidth: 0 }}>
                      <Text size="sm" fw={500} truncate>
                        {item.name}
                      </Text>
                      <Text size="xs" c="dimmed" truncate>
                        {item.skill_name ?? ''} {item.retrying ? '· retrying' : ''}
                      </Text>
                    </Box>
                    <Stack gap={2} align="flex-end">
                      <StatusBadge status={item.state} size="xs" />
                      <Text size="xs" c="dimmed">
                        {formatDuration(item.duration_ms)}
                      </Text>
                    </Stack>
                  </Group>
                </Box>
              ))}
            </Stack>
          </Paper>
          <Box style={{ flex: 1, minWidth: 0 }}>
            {current && <CaseDetail item={current} run={run} resolve={resolveArtifacts} />}
          </Box>
        </Group>
      )}
    </Stack>
  );
}

function Stat({ label, value, color }: { label: string; value: number; color: string }) {
  return (
    <Stack gap={0} align="center">
      <Text fw={700} fz={22} c={color} data-testid={`run-${label}`}>
        {value}
      </Text>
      <Text size="xs" c="dimmed" tt="uppercase">
        {label}
      </Text>
    </Stack>
  );
}
