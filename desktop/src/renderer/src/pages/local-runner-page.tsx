import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Grid,
  Group,
  List,
  Stack,
  Switch,
  Text,
  Title,
} from '@mantine/core';
import {
  IconDeviceDesktop,
  IconFolderOpen,
  IconPlayerPlay,
  IconPlayerStop,
  IconRefresh,
} from '@tabler/icons-react';
import { useCallback } from 'react';
import { defaultsFor, ParamsForm } from '../components/params-form';
import { EmptyState } from '../components/page-state';
import { RunLiveView, type ResolvedArtifact } from '../components/run-live-view';
import type { CaseView } from '../live/run-view';
import { isDesktop } from '../platform';
import { useLocalRunner } from '../stores/local-runner';
import { PageHeader } from './page-header';

/** In a browser there is no local machine to run on: say what the page is and where it lives. */
function WebExplanation() {
  return (
    <Card withBorder radius="md" p="xl" data-testid="local-runner-web">
      <Group align="flex-start" wrap="nowrap" gap="lg">
        <IconDeviceDesktop size={40} stroke={1.4} color="var(--mantine-color-indigo-6)" />
        <Stack gap="sm">
          <Title order={4}>The local runner lives in the desktop app</Title>
          <Text size="sm">
            It runs a skill folder from your own machine — no server, no queue — in a headless or
            visible Chromium, and runs it again every time you save a file. You see the same live
            view as for cluster runs.
          </Text>
          <Text size="sm">
            A browser page cannot reach your files, so here are the two ways to use it:
          </Text>
          <List size="sm" spacing={6}>
            <List.Item>Open the WebGuard desktop app and choose Local runner.</List.Item>
            <List.Item>
              From a terminal:{' '}
              <Code>
                webguard skill run ./skills/my-skill --params params.json --headed --watch
              </Code>
            </List.Item>
          </List>
        </Stack>
      </Group>
    </Card>
  );
}

const STATE_COLORS: Record<string, string> = {
  starting: 'blue',
  running: 'indigo',
  watching: 'teal',
  finished: 'gray',
  crashed: 'red',
  stopped: 'gray',
};

function DesktopRunner() {
  const runner = useLocalRunner();
  const resolveArtifacts = useCallback(
    async (item: CaseView): Promise<ResolvedArtifact[]> =>
      item.artifacts.map((artifact) => ({
        kind: artifact.kind,
        name: artifact.name,
        content_type: artifact.content_type,
        src: artifact.url,
      })),
    [],
  );
  const skill = runner.skill;
  const active = runner.state && ['starting', 'running', 'watching'].includes(runner.state.state);
  return (
    <Grid>
      <Grid.Col span={{ base: 12, lg: 4 }}>
        <Card withBorder radius="md">
          <Stack>
            <Button
              leftSection={<IconFolderOpen size={16} />}
              variant="light"
              onClick={() => void runner.pickFolder()}
            >
              {skill ? 'Choose another folder' : 'Choose a skill folder'}
            </Button>
            {!skill ? (
              <Text size="sm" c="dimmed">
                Pick a folder with a <Code>skill.ts</Code> — for example one made by{' '}
                <Code>webguard skill new</Code>.
              </Text>
            ) : !skill.ok ? (
              <Alert color="red" title="This folder does not load">
                <Text size="sm">{skill.error}</Text>
                <Button
                  size="xs"
                  mt="xs"
                  variant="light"
                  leftSection={<IconRefresh size={14} />}
                  onClick={() => void runner.reload()}
                >
                  Load again
                </Button>
              </Alert>
            ) : (
              <>
                <div>
                  <Group gap="xs">
                    <Title order={4}>{skill.skill.name}</Title>
                    <Badge variant="light">{skill.skill.category}</Badge>
                  </Group>
                  <Text size="xs" c="dimmed">
                    {skill.folder}
                  </Text>
                </div>
                <ParamsForm
                  schema={skill.skill.params_schema}
                  value={
                    Object.keys(runner.params).length
                      ? runner.params
                      : defaultsFor(skill.skill.params_schema)
                  }
                  onChange={runner.setParams}
                />
                <Switch
                  label="Show the browser"
                  checked={runner.headed}
                  onChange={(event) => runner.setHeaded(event.currentTarget.checked)}
                />
                <Switch
                  label="Run again when a file changes"
                  checked={runner.watch}
                  onChange={(event) => runner.setWatch(event.currentTarget.checked)}
                />
                <Group>
                  <Button
                    leftSection={<IconPlayerPlay size={16} />}
                    color="teal"
                    onClick={() => void runner.start()}
                  >
                    Run
                  </Button>
                  {active && (
                    <Button
                      leftSection={<IconPlayerStop size={16} />}
                      variant="light"
                      color="red"
                      onClick={() => void runner.stop()}
                    >
                      Stop
                    </Button>
                  )}
                </Group>
              </>
            )}
            {runner.error && (
              <Text c="red" size="sm">
                {runner.error}
              </Text>
            )}
            {runner.state && (
              <Group gap="xs">
                <Badge color={STATE_COLORS[runner.state.state]}>{runner.state.state}</Badge>
                <Text size="xs" c="dimmed">
                  run {runner.state.iteration}
                  {runner.state.message ? ` · ${runner.state.message}` : ''}
                </Text>
              </Group>
            )}
          </Stack>
        </Card>
      </Grid.Col>
      <Grid.Col span={{ base: 12, lg: 8 }}>
        {runner.view ? (
          <RunLiveView
            run={runner.view}
            resolveArtifacts={resolveArtifacts}
            liveLabel={runner.watch ? 'watching for changes' : null}
          />
        ) : (
          <Card withBorder radius="md">
            <EmptyState title="Nothing has run yet">
              Choose a folder, fill in the parameters and press Run. The run shows up here as it
              happens.
            </EmptyState>
          </Card>
        )}
      </Grid.Col>
    </Grid>
  );
}

export function LocalRunnerPage() {
  return (
    <>
      <PageHeader
        title="Local runner"
        subtitle="Run a skill from a folder on this machine, without a server"
      />
      {isDesktop ? <DesktopRunner /> : <WebExplanation />}
    </>
  );
}
