import { Alert, Button, Center, Group, Loader, Stack, Text, ThemeIcon, Title } from '@mantine/core';
import {
  IconAlertTriangle,
  IconCloudOff,
  IconLock,
  IconMoodEmpty,
  IconSearch,
} from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { ApiRequestError } from '../api/client';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <Center py={64} data-testid="loading">
      <Stack align="center" gap="xs">
        <Loader type="dots" />
        <Text c="dimmed" size="sm">
          {label}
        </Text>
      </Stack>
    </Center>
  );
}

export function EmptyState({
  title,
  children,
  action,
}: {
  title: string;
  children?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <Center py={56} data-testid="empty-state">
      <Stack align="center" gap="xs" maw={420} ta="center">
        <ThemeIcon size={48} radius="xl" variant="light" color="gray">
          <IconMoodEmpty size={26} />
        </ThemeIcon>
        <Title order={4}>{title}</Title>
        {children && (
          <Text c="dimmed" size="sm">
            {children}
          </Text>
        )}
        {action}
      </Stack>
    </Center>
  );
}

/** The error screen: says what went wrong in the user's terms and offers the next step. */
export function ErrorState({
  error,
  onRetry,
  what = 'this page',
}: {
  error: Error;
  onRetry?: () => void;
  what?: string;
}) {
  const kind = error instanceof ApiRequestError ? error.kind : 'server';
  const icon =
    kind === 'unreachable' ? (
      <IconCloudOff size={18} />
    ) : kind === 'unauthorized' || kind === 'forbidden' ? (
      <IconLock size={18} />
    ) : kind === 'not-found' ? (
      <IconSearch size={18} />
    ) : (
      <IconAlertTriangle size={18} />
    );
  const title =
    kind === 'unreachable'
      ? 'The server cannot be reached'
      : kind === 'unauthorized'
        ? 'Your session has expired'
        : kind === 'forbidden'
          ? 'You are not allowed to see this'
          : kind === 'not-found'
            ? `Not found`
            : `Could not load ${what}`;
  return (
    <Alert
      color={kind === 'not-found' ? 'gray' : 'red'}
      icon={icon}
      title={title}
      data-testid="error-state"
      my="md"
    >
      <Stack gap="xs">
        <Text size="sm">{error.message}</Text>
        {kind === 'unreachable' && (
          <Text size="sm" c="dimmed">
            WebGuard keeps trying and reloads this page as soon as the server answers again.
          </Text>
        )}
        {onRetry && (
          <Group>
            <Button size="xs" variant="light" onClick={onRetry}>
              Try again
            </Button>
          </Group>
        )}
      </Stack>
    </Alert>
  );
}
