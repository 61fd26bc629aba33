import {
  ActionIcon,
  Badge,
  Button,
  Card,
  Divider,
  Grid,
  Group,
  Modal,
  NumberInput,
  Select,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Textarea,
  Title,
  Tooltip,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import {
  IconCalendarTime,
  IconPencil,
  IconPlayerPlay,
  IconPlus,
  IconTrash,
} from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import type { JsonObject, Suite, TestCase } from '@webguard/shared';
import { ApiRequestError } from '../api/client';
import { useApi } from '../api/use-api';
import { ErrorState, Loading, EmptyState } from '../components/page-state';
import { ParamsForm, defaultsFor } from '../components/params-form';
import { useConnection } from '../stores/connection';
import { PageHeader } from './page-header';
import { notifyError } from './suites-page';

/** Field errors of a 400, keyed by the path inside `params` so the form can show them in place. */
function paramErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiRequestError)) return {};
  const errors: Record<string, string> = {};
  for (const detail of error.details)
    errors[detail.path.replace(/^params\.?/, '')] = detail.message;
  return errors;
}

function CaseModal({
  suiteId,
  existing,
  onClose,
  onSaved,
}: {
  suiteId: number;
  existing: TestCase | null;
  onClose: () => void;
  onSaved: () => void;
}) {
  const client = useConnection((state) => state.client);
  const skills = useApi((api) => api.listSkills(), []);
  const [name, setName] = useState(existing?.name ?? '');
  const [skillName, setSkillName] = useState<string | null>(existing?.skill_name ?? null);
  const [params, setParams] = useState<JsonObject>(existing?.params ?? {});
  const [timeout, setTimeoutSeconds] = useState<number>(existing?.timeout_seconds ?? 300);
  const [retries, setRetries] = useState<number | ''>(existing?.retries ?? '');
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const skill = useApi(
    (api) => (skillName ? api.getSkill(skillName) : Promise.resolve(null)),
    [skillName],
  );

  // The skill whose params the form holds: a new case starts from each chosen skill's defaults.
  const [paramsFor, setParamsFor] = useState<string | null>(existing?.skill_name ?? null);
  useEffect(() => {
    if (!skill.data || paramsFor === skill.data.name) return;
    setParams(defaultsFor(skill.data.params_schema));
    setParamsFor(skill.data.name);
  }, [skill.data, paramsFor]);

  const save = async () => {
    if (!client || !skillName) return;
    setSaving(true);
    setError(null);
    try {
      const body = {
        name,
        skill_name: skillName,
        params,
        timeout_seconds: timeout,
        retries: retries === '' ? null : retries,
      };
      if (existing) await client.updateCase(suiteId, existing.id, body);
      else await client.createCase(suiteId, body);
      onSaved();
      onClose();
    } catch (failure) {
      setError(failure);
    } finally {
      setSaving(false);
    }
  };

  const errors = paramErrors(error);
  return (
    <Modal
      opened
      onClose={onClose}
      title={existing ? `Edit ${existing.name}` : 'Add a case'}
      size="lg"
      centered
    >
      <Stack>
        <Group grow align="flex-start">
          <TextInput
            label="Case name"
            value={name}
            onChange={(event) => setName(event.currentTarget.value)}
            error={errors.name}
            data-testid="case-name-input"
            required
          />
          <Select
            label="Skill"
            placeholder={skills.loading ? 'Loading skills…' : 'Pick a skill'}
            searchable
            data={(skills.data?.items ?? []).map((item) => ({
              value: item.name,
              label: `${item.name} · ${item.category}`,
            }))}
            value={skillName}
            onChange={setSkillName}
            data-testid="case-skill-select"
            required
          />
        </Group>
        {skill.data && (
          <Text size="sm" c="dimmed">
            {skill.data.description}
          </Text>
        )}
        {skillName && (
          <>
            <Divider label="Parameters" labelPosition="left" />
            {skill.loading && !skill.data ? (
              <Loading label="Loading the skill's form…" />
            ) : (
              skill.data &&
              paramsFor === skill.data.name && (
                <ParamsForm
                  key={skill.data.name}
                  schema={skill.data.params_schema}
                  value={params}
                  onChange={setParams}
                  errors={errors}
                />
              )
            )}
          </>
        )}
        <Divider label="Run settings" labelPosition="left" />
        <Group grow>
          <NumberInput
            label="Timeout (s)"
            min={1}
            max={86_400}
            value={timeout}
            onChange={(value) => setTimeoutSeconds(typeof value === 'number' ? value : 300)}
          />
          <NumberInput
            label="Retries"
            description="empty: the suite's default"
            min={0}
            max={10}
            value={retries}
            onChange={(value) => setRetries(typeof value === 'number' ? value : '')}
          />
        </Group>
        {error instanceof Error && (
          <Text c="red" size="sm" data-testid="case-error-message">
            {error.message}
          </Text>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button
            onClick={() => void save()}
            loading={saving}
            disabled={!skillName || name.trim() === ''}
            data-testid="save-case-button"
          >
            {existing ? 'Save case' : 'Add case'}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

function SettingsCard({ suite, onSaved }: { suite: Suite; onSaved: (suite: Suite) => void }) {
  const client = useConnection((state) => state.client);
  const [draft, setDraft] = useState(suite);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setDraft(suite), [suite]);
  const save = async () => {
    if (!client) return;
    setSaving(true);
    setError(null);
    try {
      const saved = await client.updateSuite(suite.id, {
        description: draft.description,
        enabled: draft.enabled,
        schedule_cron: draft.schedule_cron === '' ? null : draft.schedule_cron,
        schedule_timezone: draft.schedule_timezone === '' ? null : draft.schedule_timezone,
        max_concurrent_tests: draft.max_concurrent_tests,
        timeout_minutes: draft.timeout_minutes,
        retry_on_failure: draft.retry_on_failure,
        stop_on_error: draft.stop_on_error,
      });
      notifications.show({ color: 'teal', message: 'Suite saved' });
      onSaved(saved);
    } catch (failure) {
      setError(
        failure instanceof ApiRequestError && failure.details[0]
          ? `${failure.details[0].path}: ${failure.details[0].message}`
          : failure instanceof Error
            ? failure.message
            : String(failure),
      );
    } finally {
      setSaving(false);
    }
  };
  return (
    <Card withBorder radius="md">
      <Title order={4} mb="sm">
        Settings
      </Title>
      <Stack gap="sm">
        <Textarea
          label="Description"
          autosize
          minRows={2}
          value={draft.description ?? ''}
          onChange={(event) =>
            setDraft({
              ...draft,
              description: event.currentTarget.value === '' ? null : event.currentTarget.value,
            })
          }
        />
        <Group grow>
          <TextInput
            label="Schedule (cron)"
            placeholder="0 */6 * * *"
            value={draft.schedule_cron ?? ''}
            onChange={(event) => setDraft({ ...draft, schedule_cron: event.currentTarget.value })}
            data-testid="suite-cron-input"
          />
          <TextInput
            label="Time zone"
            placeholder="UTC"
            value={draft.schedule_timezone ?? ''}
            onChange={(event) =>
              setDraft({ ...draft, schedule_timezone: event.currentTarget.value })
            }
          />
        </Group>
        <Group grow>
          <NumberInput
            label="Cases at once"
            min={1}
            max={1000}
            value={draft.max_concurrent_tests}
            onChange={(value) => setDraft({ ...draft, max_concurrent_tests: Number(value) || 1 })}
          />
          <NumberInput
            label="Suite timeout (min)"
            min={1}
            max={1440}
            value={draft.timeout_minutes}
            onChange={(value) => setDraft({ ...draft, timeout_minutes: Number(value) || 1 })}
          />
        </Group>
        <Switch
          label="Enabled"
          checked={draft.enabled}
          onChange={(event) => setDraft({ ...draft, enabled: event.currentTarget.checked })}
        />
        <Switch
          label="Retry failed cases"
          checked={draft.retry_on_failure}
          onChange={(event) =>
            setDraft({ ...draft, retry_on_failure: event.currentTarget.checked })
          }
        />
        <Switch
          label="Stop on the first failure"
          checked={draft.stop_on_error}
          onChange={(event) => setDraft({ ...draft, stop_on_error: event.currentTarget.checked })}
        />
        {error && (
          <Text c="red" size="sm">
            {error}
          </Text>
        )}
        <Group justify="flex-end">
          <Button
            onClick={() => void save()}
            loading={saving}
            variant="light"
            data-testid="save-suite-button"
          >
            Save settings
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}

function ScheduleCard({ suiteId, version }: { suiteId: number; version: string }) {
  const { data, error } = useApi((client) => client.suiteSchedule(suiteId), [suiteId, version]);
  return (
    <Card withBorder radius="md">
      <Group gap="xs" mb="sm">
        <IconCalendarTime size={18} />
        <Title order={4}>Next runs</Title>
      </Group>
      {error ? (
        <Text size="sm" c="red">
          {error.message}
        </Text>
      ) : !data ? (
        <Text size="sm" c="dimmed">
          Loading…
        </Text>
      ) : !data.active ? (
        <Text size="sm" c="dimmed" data-testid="schedule-inactive">
          {data.schedule_cron
            ? 'The suite is disabled, so its schedule does not fire.'
            : 'No schedule: this suite runs when triggered.'}
        </Text>
      ) : (
        <Stack gap={4} data-testid="next-runs">
          {data.next_runs.map((time) => (
            <Text key={time} size="sm">
              {new Date(time).toLocaleString(undefined, {
                timeZone: data.timezone,
                dateStyle: 'medium',
                timeStyle: 'short',
              })}{' '}
              <Text span c="dimmed" size="xs">
                {data.timezone}
              </Text>
            </Text>
          ))}
        </Stack>
      )}
    </Card>
  );
}

export function SuitePage() {
  const suiteId = Number(useParams().suiteId);
  const navigate = useNavigate();
  const client = useConnection((state) => state.client);
  const suite = useApi((api) => api.getSuite(suiteId), [suiteId]);
  const cases = useApi((api) => api.listCases(suiteId), [suiteId]);
  const [editing, setEditing] = useState<TestCase | 'new' | null>(null);
  const [current, setCurrent] = useState<Suite | null>(null);
  const [triggering, setTriggering] = useState(false);
  const shown = current ?? suite.data ?? null;

  if (suite.loading && !suite.data) return <Loading label="Loading the suite…" />;
  if (suite.error || !shown)
    return (
      <ErrorState
        error={suite.error ?? new Error('not found')}
        onRetry={suite.reload}
        what="the suite"
      />
    );

  const trigger = async () => {
    if (!client) return;
    setTriggering(true);
    try {
      const run = await client.trigger(suiteId);
      void navigate(`/runs/${run.execution_id}`);
    } catch (failure) {
      notifyError('Could not start the run', failure);
    } finally {
      setTriggering(false);
    }
  };
  const remove = async (item: TestCase) => {
    if (!client || !window.confirm(`Delete the case "${item.name}"?`)) return;
    try {
      await client.deleteCase(suiteId, item.id);
      cases.reload();
    } catch (failure) {
      notifyError('Could not delete the case', failure);
    }
  };
  const items = cases.data?.items ?? [];

  return (
    <>
      <PageHeader
        title={shown.name}
        subtitle={shown.description ?? 'No description'}
        actions={
          <Tooltip label={items.length === 0 ? 'Add a case first' : 'Run every enabled case now'}>
            <Button
              leftSection={<IconPlayerPlay size={16} />}
              color="teal"
              onClick={() => void trigger()}
              loading={triggering}
              disabled={items.length === 0}
              data-testid="run-suite-button"
            >
              Run now
            </Button>
          </Tooltip>
        }
      />
      {editing && (
        <CaseModal
          suiteId={suiteId}
          existing={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={cases.reload}
        />
      )}
      <Grid>
        <Grid.Col span={{ base: 12, lg: 8 }}>
          <Card withBorder radius="md">
            <Group justify="space-between" mb="sm">
              <Title order={4}>Cases</Title>
              <Button
                size="xs"
                variant="light"
                leftSection={<IconPlus size={14} />}
                onClick={() => setEditing('new')}
                data-testid="add-case-button"
              >
                Add case
              </Button>
            </Group>
            {cases.error ? (
              <ErrorState error={cases.error} onRetry={cases.reload} what="cases" />
            ) : cases.loading && !cases.data ? (
              <Loading />
            ) : items.length === 0 ? (
              <EmptyState
                title="No cases yet"
                action={
                  <Button size="xs" onClick={() => setEditing('new')}>
                    Add the first case
                  </Button>
                }
              >
                Each case runs one skill with its parameters. The form comes from the skill's own
                schema.
              </EmptyState>
            ) : (
              <Table verticalSpacing="sm" layout="fixed" data-testid="cases-table">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th w={170}>Skill</Table.Th>
                    <Table.Th w={90}>Timeout</Table.Th>
                    <Table.Th w={84} />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {items.map((item) => (
                    <Table.Tr key={item.id} data-testid="case-item">
                      <Table.Td>
                        <Text fw={500} size="sm">
                          {item.name}
                        </Text>
                        <Text size="xs" c="dimmed" truncate="end" ff="monospace">
                          {JSON.stringify(item.params)}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Badge variant="light">{item.skill_name}</Badge>
                        {!item.enabled && (
                          <Badge variant="outline" color="gray" ml={4}>
                            off
                          </Badge>
                        )}
                      </Table.Td>
                      <Table.Td>{item.timeout_seconds} s</Table.Td>
                      <Table.Td>
                        <Group gap={4} justify="flex-end">
                          <ActionIcon
                            variant="subtle"
                            color="gray"
                            onClick={() => setEditing(item)}
                            aria-label="Edit case"
                          >
                            <IconPencil size={16} />
                          </ActionIcon>
                          <ActionIcon
                            variant="subtle"
                            color="red"
                            onClick={() => void remove(item)}
                            aria-label="Delete case"
                          >
                            <IconTrash size={16} />
                          </ActionIcon>
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 4 }}>
          <Stack>
            <ScheduleCard suiteId={suiteId} version={shown.updated_at} />
            <SettingsCard suite={shown} onSaved={setCurrent} />
          </Stack>
        </Grid.Col>
      </Grid>
    </>
  );
}
