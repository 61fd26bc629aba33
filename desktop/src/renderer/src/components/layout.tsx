import { AppShell, Badge, Box, Button, Group, NavLink, Stack, Text, Tooltip } from '@mantine/core';
import {
  IconActivity,
  IconAlertTriangle,
  IconDeviceDesktop,
  IconGauge,
  IconHistory,
  IconListCheck,
  IconLogout,
  IconPuzzle,
} from '@tabler/icons-react';
import { NavLink as RouterLink, Outlet, useLocation } from 'react-router';
import { useConnection } from '../stores/connection';
import { useLive } from '../stores/live';
import { isDesktop } from '../platform';
import { Logo } from './logo';

const NAV = [
  { to: '/', label: 'Dashboard', icon: IconGauge, testid: 'nav-dashboard' },
  { to: '/suites', label: 'Suites', icon: IconListCheck, testid: 'nav-suites' },
  { to: '/runs', label: 'Runs', icon: IconHistory, testid: 'nav-runs' },
  { to: '/flaky', label: 'Flaky tests', icon: IconAlertTriangle, testid: 'nav-flaky' },
  { to: '/skills', label: 'Skills', icon: IconPuzzle, testid: 'nav-skills' },
  { to: '/local', label: 'Local runner', icon: IconDeviceDesktop, testid: 'nav-local' },
];

function ConnectionBadge() {
  const status = useConnection((state) => state.status);
  const live = useLive((state) => state.status);
  if (status === 'unreachable') {
    return (
      <Badge color="red" variant="light" data-testid="connection-status">
        server unreachable · retrying
      </Badge>
    );
  }
  const label =
    live === 'online' ? 'live' : live === 'connecting' ? 'connecting live…' : 'live updates paused';
  return (
    <Tooltip
      label={
        live === 'online'
          ? 'Runs and the dashboard update as they happen.'
          : 'Pages refresh by polling until the live connection is back.'
      }
    >
      <Badge
        color={live === 'online' ? 'teal' : 'gray'}
        variant="dot"
        data-testid="connection-status"
      >
        {label}
      </Badge>
    </Tooltip>
  );
}

export function Layout() {
  const location = useLocation();
  const credential = useConnection((state) => state.credential);
  const disconnect = useConnection((state) => state.disconnect);
  return (
    <AppShell navbar={{ width: 232, breakpoint: 0 }} header={{ height: 56 }} padding="lg">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="xs">
            <Logo size={26} />
            <Text fw={700} fz="lg">
              WebGuard
            </Text>
            <Text c="dimmed" size="sm">
              control center
            </Text>
          </Group>
          <Group gap="sm">
            <ConnectionBadge />
            <Text size="sm" c="dimmed" data-testid="server-url">
              {credential?.server_url}
            </Text>
            <Button
              variant="subtle"
              color="gray"
              size="xs"
              leftSection={<IconLogout size={14} />}
              onClick={() => void disconnect()}
            >
              Disconnect
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="sm">
        <Stack gap={2}>
          {NAV.map((item) => {
            const active =
              item.to === '/' ? location.pathname === '/' : location.pathname.startsWith(item.to);
            return (
              <NavLink
                key={item.to}
                component={RouterLink}
                to={item.to}
                label={item.label}
                active={active}
                data-testid={item.testid}
                leftSection={<item.icon size={18} stroke={1.6} />}
                rightSection={
                  item.to === '/local' && !isDesktop ? (
                    <Badge size="xs" variant="light" color="gray">
                      app
                    </Badge>
                  ) : undefined
                }
                style={{ borderRadius: 6 }}
              />
            );
          })}
        </Stack>
        <Box mt="auto" p="xs">
          <Group gap={6}>
            <IconActivity size={14} color="var(--mantine-color-dimmed)" />
            <Text size="xs" c="dimmed">
              {isDesktop ? 'Desktop app' : 'Web UI'}
            </Text>
          </Group>
        </Box>
      </AppShell.Navbar>
      <AppShell.Main bg="gray.0">
        <Box maw={1280} mx="auto">
          <Outlet />
        </Box>
      </AppShell.Main>
    </AppShell>
  );
}
