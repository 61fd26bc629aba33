import { Button, Card, Group, NumberInput, Pagination, Select } from '@mantine/core';
import { IconPlayerStop, IconRefresh } from '@tabler/icons-react';
import { useCallback, useEffect, useState } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router';
import { EXECUTION_STATUSES, type ExecutionStatus } from '@webguard/shared';
import { useApi } from '../api/use-api';
import { EmptyState, ErrorState, Loading } from '../components/page-state';
import { RunLiveView, type ResolvedArtifact } from '../components/run-live-view';
import {
  applyFrame,
  applyRunEvent,
  emptyRunView,
  isFinalStatus,
  mergeRunViews,
  runViewFromExecution,
  type CaseView,
  type RunView,
} from '../live/run-view';
import { useConnection } from '../stores/connection';
import { useLive } from '../stores/live';
import { RunsTable } from './dashboard-page';
import { PageHeader } from './page-header';
import { notifyError } from './suites-page';

export function RunPage() {
  const executionId = Number(useParams().runId);
  const navigate = useNavigate();
  const client = useConnection((state) => state.client);
  const liveStatus = useLive((state) => state.status);
  const watchRun = useLive((state) => state.watchRun);
  const [live, setLive] = useState<RunView>(() => emptyRunView(executionId));
  const [finished, setFinished] = useState(false);
  // REST is the record; while the run goes it is polled, slowly when live events flow.
  const stored = useApi((api) => api.getExecution(executionId), [executionId], {
    pollMs: finished ? null : liveStatus === 'online' ? 5000 : 1500,
  });

  useEffect(() => {
    setLive(emptyRunView(executionId));
    let seen = 0;
    return watchRun({
      executionId,
      frames: true,
      nextSeq: () => seen + 1,
      onEvent: (event) => {
        seen = Math.max(seen, event.seq);
        setLive((view) => applyRunEvent(view, event));
        if (event.type === 'execution.finished') stored.reload();
      },
      onFrame: (frame) => setLive((view) => applyFrame(view, frame)),
    });
    // stored.reload is stable; the watch follows the run id only.
  }, [executionId, watchRun]);

  const storedView = stored.data ? runViewFromExecution(stored.data) : null;
  useEffect(() => {
    if (stored.data && isFinalStatus(stored.data.status)) setFinished(true);
  }, [stored.data]);

  const resolveArtifacts = useCallback(
    async (item: CaseView): Promise<ResolvedArtifact[]> => {
      if (!client) return [];
      const listed =
        item.result_id === null
          ? item.artifacts
          : (await client.listArtifacts(item.result_id)).items;
      const withIds = listed.filter(
        (artifact): artifact is typeof artifact & { id: number } => artifact.id !== null,
      );
      return Promise.all(
        withIds.map(async (artifact) => ({
          kind: artifact.kind,
          name: artifact.name,
          content_type: artifact.content_type,
          src: (await client.artifactLink(artifact.id)).url,
        })),
      );
    },
    [client],
  );

  if (stored.loading && !stored.data) return <Loading label={`Loading run #${executionId}…`} />;
  if (stored.error && !stored.data)
    return <ErrorState error={stored.error} onRetry={stored.reload} what={`run #${executionId}`} />;
  const view = mergeRunViews(storedView, live);
  if (!view) return null;

  const cancel = async () => {
    try {
      await client?.cancelExecution(executionId);
      stored.reload();
    } catch (failure) {
      notifyError('Could not cancel the run', failure);
    }
  };
  const rerun = async () => {
    try {
      const next = await client?.rerunExecution(executionId, 'failed');
      if (next) void navigate(`/runs/${next.execution_id}`);
    } catch (failure) {
      notifyError('Could not start the rerun', failure);
    }
  };

  return (
    <>
      <PageHeader
        title={`Run #${executionId}`}
        subtitle={
          stored.data
            ? `${stored.data.triggered_by} trigger${stored.data.environment ? ` · ${stored.data.environment}` : ''}${stored.data.ci_commit_sha ? ` · ${stored.data.ci_commit_sha.slice(0, 8)}` : ''}`
            : undefined
        }
        actions={
          isFinalStatus(view.status) ? (
            view.failed > 0 && (
              <Button
                variant="light"
                leftSection={<IconRefresh size={16} />}
                onClick={() => void rerun()}
              >
                Rerun failed
              </Button>
            )
          ) : (
            <Button
              variant="light"
              color="red"
              leftSection={<IconPlayerStop size={16} />}
              onClick={() => void cancel()}
            >
              Cancel run
            </Button>
          )
        }
      />
      {stored.data?.error_message && (
        <ErrorState error={new Error(stored.data.error_message)} what="this run" />
      )}
      <RunLiveView
        run={view}
        resolveArtifacts={resolveArtifacts}
        liveLabel={
          isFinalStatus(view.status)
            ? null
            : liveStatus === 'online'
              ? 'live'
              : 'refreshing every few seconds'
        }
      />
    </>
  );
}

const PAGE = 25;

/** Jumps to a run by its id (the desktop menu's Open Run… lands here with the field focused). */
function OpenRunInput() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [id, setId] = useState<number | ''>('');
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        if (id !== '') void navigate(`/runs/${id}`);
      }}
    >
      <NumberInput
        placeholder="Open run #"
        min={1}
        allowDecimal={false}
        hideControls
        value={id}
        onChange={(value) => setId(typeof value === 'number' ? value : '')}
        autoFocus={params.has('open')}
        w={140}
        data-testid="open-run-input"
      />
    </form>
  );
}

export function RunsPage() {
  const [page, setPage] = useState(1);
  const [status, setStatus] = useState<ExecutionStatus | null>(null);
  const { data, error, loading, reload } = useApi(
    (client) =>
      client.listExecutions({
        limit: PAGE,
        offset: (page - 1) * PAGE,
        status: status ?? undefined,
      }),
    [page, status],
    { pollMs: 5000 },
  );
  return (
    <>
      <PageHeader
        title="Runs"
        subtitle="Every run of every suite, newest first"
        actions={
          <>
            <OpenRunInput />
            <Select
              placeholder="Any status"
              clearable
              data={[...EXECUTION_STATUSES]}
              value={status}
              onChange={(value) => {
                setStatus(value);
                setPage(1);
              }}
              w={180}
            />
          </>
        }
      />
      <Card withBorder radius="md">
        {loading && !data ? (
          <Loading label="Loading runs…" />
        ) : error && !data ? (
          <ErrorState error={error} onRetry={reload} what="runs" />
        ) : !data || data.items.length === 0 ? (
          <EmptyState title={status ? `No ${status} runs` : 'No runs yet'}>
            Runs appear here once a suite is triggered, by hand, from CI or on its schedule.
          </EmptyState>
        ) : (
          <>
            <RunsTable runs={data.items} />
            {data.total > PAGE && (
              <Group justify="center" mt="md">
                <Pagination total={Math.ceil(data.total / PAGE)} value={page} onChange={setPage} />
              </Group>
            )}
          </>
        )}
      </Card>
    </>
  );
}
