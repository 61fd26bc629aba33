import {
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  Modal,
  Stack,
  Table,
  Text,
  TextInput,
  Textarea,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { ApiRequestError } from '../api/client';
import { useApi } from '../api/use-api';
import { EmptyState, ErrorState, Loading } from '../components/page-state';
import { formatWhen } from '../components/status';
import { useConnection } from '../stores/connection';
import { PageHeader } from './page-header';

function NewSuiteModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const client = useConnection((state) => state.client);
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const create = async () => {
    if (!client) return;
    setSaving(true);
    setError(null);
    try {
      const suite = await client.createSuite({
        name,
        description: description === '' ? null : description,
      });
      onClose();
      void navigate(`/suites/${suite.id}`);
    } catch (failure) {
      setError(
        failure instanceof ApiRequestError
          ? failure.details[0]?.message
            ? `${failure.details[0].path}: ${failure.details[0].message}`
            : failure.message
          : String(failure),
      );
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal opened={opened} onClose={onClose} title="New suite" centered>
      <Stack>
        <TextInput
          label="Name"
          placeholder="checkout smoke"
          value={name}
          onChange={(event) => setName(event.currentTarget.value)}
          error={error}
          data-testid="suite-name-input"
          data-autofocus
        />
        <Textarea
          label="Description"
          placeholder="What this suite protects"
          value={description}
          onChange={(event) => setDescription(event.currentTarget.value)}
          autosize
          minRows={2}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button
            onClick={() => void create()}
            loading={saving}
            disabled={name.trim() === ''}
            data-testid="create-suite-button"
          >
            Create suite
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

export function SuitesPage() {
  const [creating, setCreating] = useState(false);
  const { data, error, loading, reload } = useApi((client) => client.listSuites(), []);
  const action = (
    <Button
      leftSection={<IconPlus size={16} />}
      onClick={() => setCreating(true)}
      data-testid="new-suite-button"
    >
      New suite
    </Button>
  );
  return (
    <>
      <PageHeader
        title="Suites"
        subtitle="Groups of cases that run together, by hand, from CI or on a schedule"
        actions={action}
      />
      <NewSuiteModal opened={creating} onClose={() => setCreating(false)} />
      {loading && !data ? (
        <Loading label="Loading suites…" />
      ) : error && !data ? (
        <ErrorState error={error} onRetry={reload} what="suites" />
      ) : data && data.items.length === 0 ? (
        <Card withBorder radius="md">
          <EmptyState title="No suites yet" action={action}>
            A suite is a list of cases, each one a skill with its parameters. Create one to start
            testing.
          </EmptyState>
        </Card>
      ) : (
        <Card withBorder radius="md" p={0}>
          <Table
            highlightOnHover
            verticalSpacing="sm"
            horizontalSpacing="md"
            data-testid="suites-table"
          >
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Schedule</Table.Th>
                <Table.Th>Parallel</Table.Th>
                <Table.Th>State</Table.Th>
                <Table.Th>Updated</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data?.items.map((suite) => (
                <Table.Tr key={suite.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/suites/${suite.id}`} fw={600}>
                      {suite.name}
                    </Anchor>
                    {suite.description && (
                      <Text size="xs" c="dimmed" lineClamp={1}>
                        {suite.description}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    {suite.schedule_cron ? (
                      <code>{suite.schedule_cron}</code>
                    ) : (
                      <Text size="sm" c="dimmed">
                        by hand
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>{suite.max_concurrent_tests}</Table.Td>
                  <Table.Td>
                    {suite.enabled ? (
                      <Badge variant="light" color="teal">
                        enabled
                      </Badge>
                    ) : (
                      <Badge variant="light" color="gray">
                        disabled
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" c="dimmed">
                      {formatWhen(suite.updated_at)}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Card>
      )}
    </>
  );
}

export function notifyError(title: string, error: unknown) {
  notifications.show({
    color: 'red',
    title,
    message: error instanceof Error ? error.message : String(error),
  });
}
