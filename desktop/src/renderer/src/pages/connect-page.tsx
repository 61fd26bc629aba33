import {
  Alert,
  Anchor,
  Button,
  Center,
  Group,
  Paper,
  PasswordInput,
  SegmentedControl,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { IconAlertCircle, IconPlugConnected } from '@tabler/icons-react';
import { useState, type FormEvent } from 'react';
import { Logo } from '../components/logo';
import { Link } from 'react-router';
import { defaultServerUrl, isDesktop } from '../platform';
import { useConnection } from '../stores/connection';

/** Where every session starts: which server, and who is asking. */
export function ConnectPage() {
  const { status, problem, credential, connect, login } = useConnection();
  const [serverUrl, setServerUrl] = useState(credential?.server_url ?? defaultServerUrl);
  const [mode, setMode] = useState<'token' | 'login'>(
    credential?.kind === 'session' ? 'login' : 'token',
  );
  const [token, setToken] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const busy = status === 'connecting' || status === 'restoring';
  const urlError = /^https?:\/\/[^\s/]+/.test(serverUrl.trim())
    ? null
    : 'Enter the server address, e.g. http://127.0.0.1:8000';

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (urlError) return;
    if (mode === 'token')
      void connect({
        server_url: serverUrl,
        kind: 'token',
        token: token.trim(),
        refresh_token: null,
      });
    else void login(serverUrl, email, password);
  };

  return (
    <Center mih="100vh" bg="gray.0" p="md">
      <Paper
        withBorder
        shadow="sm"
        radius="lg"
        p="xl"
        w={440}
        component="form"
        onSubmit={submit}
        data-testid="connect-form"
      >
        <Stack>
          <Group gap="sm">
            <Logo size={36} />
            <div>
              <Title order={3}>Connect to WebGuard</Title>
              <Text size="sm" c="dimmed">
                Pick the server your team runs tests on.
              </Text>
            </div>
          </Group>
          {problem && (
            <Alert
              color={status === 'unauthorized' ? 'orange' : 'red'}
              icon={<IconAlertCircle size={18} />}
              data-testid="connect-problem"
            >
              {problem}
            </Alert>
          )}
          <TextInput
            label="Server URL"
            value={serverUrl}
            onChange={(event) => setServerUrl(event.currentTarget.value)}
            error={serverUrl === '' ? null : urlError}
            data-testid="server-url-input"
            required
          />
          <SegmentedControl
            value={mode}
            onChange={(value) => setMode(value)}
            data={[
              { label: 'API token', value: 'token' },
              { label: 'Sign in', value: 'login' },
            ]}
          />
          {mode === 'token' ? (
            <PasswordInput
              label="API token"
              description="Create one with `webguard token create`; leave empty if this server has no sign-in."
              value={token}
              onChange={(event) => setToken(event.currentTarget.value)}
              data-testid="token-input"
            />
          ) : (
            <>
              <TextInput
                data-testid="email-input"
                label="E-mail"
                type="email"
                value={email}
                onChange={(event) => setEmail(event.currentTarget.value)}
                required
              />
              <PasswordInput
                data-testid="password-input"
                label="Password"
                value={password}
                onChange={(event) => setPassword(event.currentTarget.value)}
                required
              />
            </>
          )}
          <Button
            type="submit"
            loading={busy}
            leftSection={<IconPlugConnected size={18} />}
            data-testid="connect-button"
          >
            Connect
          </Button>
          {isDesktop && (
            <Text size="sm" c="dimmed" ta="center">
              No server at hand?{' '}
              <Anchor component={Link} to="/local">
                Run a skill on this machine
              </Anchor>
            </Text>
          )}
        </Stack>
      </Paper>
    </Center>
  );
}
