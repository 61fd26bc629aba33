import { Badge, Loader } from '@mantine/core';
import type { CaseState } from '../live/run-view';
import type { ExecutionStatus } from '@webguard/shared';

const COLORS: Record<string, string> = {
  passed: 'teal',
  failed: 'red',
  error: 'orange',
  timeout: 'yellow',
  cancelled: 'gray',
  skipped: 'gray',
  queued: 'blue',
  running: 'indigo',
};

export const statusColor = (status: string): string => COLORS[status] ?? 'gray';

/** One status pill used everywhere, so a color means the same thing on every page. */
export function StatusBadge({
  status,
  size = 'sm',
}: {
  status: ExecutionStatus | CaseState;
  size?: 'xs' | 'sm' | 'md' | 'lg';
}) {
  return (
    <Badge
      color={statusColor(status)}
      variant={status === 'running' || status === 'queued' ? 'light' : 'filled'}
      size={size}
      leftSection={status === 'running' ? <Loader size={10} color="indigo" /> : undefined}
      data-testid="status-badge"
      data-status={status}
    >
      {status}
    </Badge>
  );
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds % 60)} s`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function formatWhen(iso: string | null | undefined): string {
  if (!iso) return '—';
  const diff = (new Date(iso).getTime() - Date.now()) / 1000;
  const abs = Math.abs(diff);
  if (abs < 60) return relative.format(Math.round(diff), 'second');
  if (abs < 3600) return relative.format(Math.round(diff / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(diff / 3600), 'hour');
  return new Date(iso).toLocaleString();
}
