import {
  Accordion,
  Alert,
  Badge,
  Card,
  Code,
  Group,
  ScrollArea,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { useState } from 'react';
import type { JsonObject } from '@webguard/shared';
import { useApi } from '../api/use-api';
import { EmptyState, ErrorState, Loading } from '../components/page-state';
import { ParamsForm, defaultsFor } from '../components/params-form';
import { PageHeader } from './page-header';

const CATEGORY_COLORS: Record<string, string> = {
  browser: 'indigo',
  api: 'blue',
  data: 'cyan',
  performance: 'orange',
  security: 'red',
};

function SkillPreview({ name }: { name: string }) {
  const { data, error } = useApi((client) => client.getSkill(name), [name]);
  const [params, setParams] = useState<JsonObject | null>(null);
  if (error)
    return (
      <Text c="red" size="sm">
        {error.message}
      </Text>
    );
  if (!data)
    return (
      <Text size="sm" c="dimmed">
        Loading…
      </Text>
    );
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }}>
      <Stack gap="xs">
        <Text size="sm" fw={600}>
          Form preview
        </Text>
        <ParamsForm
          schema={data.params_schema}
          value={params ?? defaultsFor(data.params_schema)}
          onChange={setParams}
        />
      </Stack>
      <Stack gap="xs">
        <Text size="sm" fw={600}>
          Params schema
        </Text>
        <ScrollArea.Autosize mah={360}>
          <Code block fz="xs">
            {JSON.stringify(data.params_schema, null, 2)}
          </Code>
        </ScrollArea.Autosize>
        <Text size="xs" c="dimmed">
          Loaded from {data.source} · versions {data.versions.join(', ')}
        </Text>
      </Stack>
    </SimpleGrid>
  );
}

export function SkillsPage() {
  const { data, error, loading, reload } = useApi((client) => client.listSkills(), []);
  const [open, setOpen] = useState<string | null>(null);
  return (
    <>
      <PageHeader
        title="Skills"
        subtitle="The test units cases are built from, as this server loaded them"
      />
      {loading && !data ? (
        <Loading label="Loading skills…" />
      ) : error && !data ? (
        <ErrorState error={error} onRetry={reload} what="skills" />
      ) : (
        <Stack>
          {data?.errors.map((problem) => (
            <Alert
              key={problem.source}
              color="orange"
              icon={<IconAlertTriangle size={18} />}
              title={`${problem.name ?? problem.source} did not load`}
            >
              <Text size="sm">{problem.message}</Text>
            </Alert>
          ))}
          {data && data.items.length === 0 ? (
            <Card withBorder>
              <EmptyState title="No skills loaded">
                Add skill folders with WEBGUARD_SKILLS_PATHS, or scaffold one with `webguard skill
                new`.
              </EmptyState>
            </Card>
          ) : (
            <Card withBorder radius="md" p={0}>
              <Accordion
                value={open}
                onChange={setOpen}
                variant="default"
                data-testid="skills-list"
              >
                {data?.items.map((skill) => (
                  <Accordion.Item key={skill.name} value={skill.name}>
                    <Accordion.Control>
                      <Group justify="space-between" pr="md">
                        <Stack gap={0}>
                          <Group gap="xs">
                            <Title order={5}>{skill.name}</Title>
                            <Badge
                              size="sm"
                              variant="light"
                              color={CATEGORY_COLORS[skill.category] ?? 'gray'}
                            >
                              {skill.category}
                            </Badge>
                            <Text size="xs" c="dimmed">
                              v{skill.version}
                            </Text>
                          </Group>
                          <Text size="sm" c="dimmed">
                            {skill.description}
                          </Text>
                        </Stack>
                        {skill.timeout_ms && (
                          <Text size="xs" c="dimmed">
                            limit {Math.round(skill.timeout_ms / 1000)} s
                          </Text>
                        )}
                      </Group>
                    </Accordion.Control>
                    <Accordion.Panel>
                      {open === skill.name && <SkillPreview name={skill.name} />}
                    </Accordion.Panel>
                  </Accordion.Item>
                ))}
              </Accordion>
            </Card>
          )}
        </Stack>
      )}
    </>
  );
}
