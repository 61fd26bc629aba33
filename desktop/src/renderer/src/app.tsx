import { Anchor, Center, Loader, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useEffect } from 'react';
import {
  Link,
  Navigate,
  Outlet,
  createBrowserRouter,
  createHashRouter,
  useLocation,
  useNavigate,
  type RouteObject,
} from 'react-router';
import { Layout } from './components/layout';
import { EmptyState } from './components/page-state';
import { ConnectPage } from './pages/connect-page';
import { DashboardPage } from './pages/dashboard-page';
import { FlakyPage } from './pages/flaky-page';
import { LocalRunnerPage } from './pages/local-runner-page';
import { RunPage, RunsPage } from './pages/run-page';
import { SkillsPage } from './pages/skills-page';
import { SuitePage } from './pages/suite-page';
import { SuitesPage } from './pages/suites-page';
import { desktop, isDesktop } from './platform';
import { useConnection } from './stores/connection';
import { useLive } from './stores/live';

/** Shows the connect screen until a server accepts us; the local runner works without one. */
function Gate() {
  const status = useConnection((state) => state.status);
  const client = useConnection((state) => state.client);
  const credential = useConnection((state) => state.credential);
  const storageWarning = useConnection((state) => state.storageWarning);
  const location = useLocation();
  const navigate = useNavigate();

  useEffect(() => {
    void useConnection.getState().restore();
  }, []);

  useEffect(() => {
    if (storageWarning)
      notifications.show({
        color: 'yellow',
        title: 'Token stored in plain text',
        message: storageWarning,
        autoClose: false,
      });
  }, [storageWarning]);

  // Live updates follow the connection: started on connect, stopped on disconnect.
  const token = credential?.token ?? null;
  const connected = client !== null && (status === 'connected' || status === 'unreachable');
  useEffect(() => {
    if (!connected || !client) return;
    useLive.getState().start(client.baseUrl, token === '' ? null : token);
    return () => useLive.getState().stop();
  }, [connected, client, token]);

  // `webguard://run/123` and the Open run menu arrive from main.
  useEffect(
    () => desktop?.onOpenRun(({ execution_id }) => void navigate(`/runs/${execution_id}`)),
    [navigate],
  );
  useEffect(() => desktop?.onNavigate(({ path }) => void navigate(path)), [navigate]);

  if (status === 'restoring') {
    return (
      <Center mih="100vh">
        <Loader />
      </Center>
    );
  }
  if (!connected && !(isDesktop && location.pathname.startsWith('/local'))) return <ConnectPage />;
  return <Outlet />;
}

function NotFound() {
  return (
    <EmptyState title="This page does not exist">
      <Text size="sm" c="dimmed">
        Go back to the{' '}
        <Anchor component={Link} to="/">
          dashboard
        </Anchor>
        .
      </Text>
    </EmptyState>
  );
}

const routes: RouteObject[] = [
  {
    element: <Gate />,
    children: [
      {
        element: <Layout />,
        children: [
          { index: true, element: <DashboardPage /> },
          { path: 'suites', element: <SuitesPage /> },
          { path: 'suites/:suiteId', element: <SuitePage /> },
          { path: 'runs', element: <RunsPage /> },
          { path: 'runs/:runId', element: <RunPage /> },
          { path: 'flaky', element: <FlakyPage /> },
          { path: 'skills', element: <SkillsPage /> },
          { path: 'local', element: <LocalRunnerPage /> },
          { path: 'connect', element: <Navigate to="/" replace /> },
          { path: '*', element: <NotFound /> },
        ],
      },
    ],
  },
];

/** The desktop app loads from a file, where only the hash can carry a route; the web UI has real paths. */
export const router =
  isDesktop || window.location.protocol === 'file:'
    ? createHashRouter(routes)
    : createBrowserRouter(routes);
