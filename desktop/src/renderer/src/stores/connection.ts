import { create } from 'zustand';
import { StoredCredential } from '@webguard/shared';
import { ApiClient, ApiRequestError } from '../api/client';
import { credentialStore } from '../platform';

export type ConnectionStatus =
  'restoring' | 'disconnected' | 'connecting' | 'connected' | 'unreachable' | 'unauthorized';

export interface ConnectionState {
  status: ConnectionStatus;
  client: ApiClient | null;
  credential: StoredCredential | null;
  /** Why the last connect or call failed, in words for the connect screen. */
  problem: string | null;
  /** Shown once after connecting when the token could only be stored in plain text. */
  storageWarning: string | null;
  /** Bumped after a reconnect so pages load their data again. */
  generation: number;
  restore: () => Promise<void>;
  connect: (credential: StoredCredential) => Promise<boolean>;
  login: (serverUrl: string, email: string, password: string) => Promise<boolean>;
  disconnect: () => Promise<void>;
  /** Pages report failures here; the store decides whether the connection itself is gone. */
  reportFailure: (error: unknown) => Promise<void>;
}

const RETRY_MS = 3000;
let retryTimer: ReturnType<typeof setTimeout> | undefined;

const normalize = (url: string) => url.trim().replace(/\/+$/, '');

/** Checks that the server answers and accepts the credential, by asking for something small. */
async function probe(client: ApiClient): Promise<void> {
  await client.listSkills();
}

export const useConnection = create<ConnectionState>((set, get) => {
  const scheduleRetry = () => {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      const { client, status } = get();
      if (!client || status !== 'unreachable') return;
      probe(client).then(
        () =>
          set((state) => ({
            status: 'connected',
            problem: null,
            generation: state.generation + 1,
          })),
        (error: unknown) => {
          if (error instanceof ApiRequestError && error.kind === 'unauthorized') {
            set({
              status: 'unauthorized',
              problem: 'The server no longer accepts this token. Connect again.',
            });
          } else scheduleRetry();
        },
      );
    }, RETRY_MS);
  };

  // Refresh tokens are single-use and a reused one ends the session: requests failing together
  // share one renewal instead of each spending the same refresh token.
  let renewing: Promise<boolean> | undefined;
  const renewSession = (): Promise<boolean> => {
    renewing ??= renewOnce().finally(() => (renewing = undefined));
    return renewing;
  };

  const renewOnce = async (): Promise<boolean> => {
    const { credential, client } = get();
    if (!credential || !client || credential.kind !== 'session' || !credential.refresh_token)
      return false;
    try {
      const pair = await client.refresh(credential.refresh_token);
      const renewed: StoredCredential = {
        ...credential,
        token: pair.access_token,
        refresh_token: pair.refresh_token,
      };
      client.setToken(renewed.token);
      await credentialStore.save(renewed);
      set((state) => ({
        credential: renewed,
        status: 'connected',
        generation: state.generation + 1,
      }));
      return true;
    } catch {
      return false;
    }
  };

  return {
    status: 'restoring',
    client: null,
    credential: null,
    problem: null,
    storageWarning: null,
    generation: 0,

    async restore() {
      const saved = await credentialStore.load().catch(() => null);
      const parsed = StoredCredential.safeParse(saved);
      if (!parsed.success) {
        set({ status: 'disconnected' });
        return;
      }
      await get().connect(parsed.data);
    },

    async connect(input) {
      const credential = { ...input, server_url: normalize(input.server_url) };
      const client = new ApiClient(
        credential.server_url,
        credential.token === '' ? null : credential.token,
      );
      set({ status: 'connecting', problem: null });
      try {
        await probe(client);
      } catch (error) {
        const unauthorized = error instanceof ApiRequestError && error.kind === 'unauthorized';
        set({
          status: unauthorized ? 'unauthorized' : 'disconnected',
          client: null,
          credential,
          problem: unauthorized
            ? credential.token === ''
              ? 'This server needs an API token or a login.'
              : 'The server refused this token: it may be wrong, revoked or expired.'
            : error instanceof Error
              ? error.message
              : String(error),
        });
        return false;
      }
      const saved = await credentialStore.save(credential);
      set((state) => ({
        status: 'connected',
        client,
        credential,
        problem: null,
        storageWarning: saved.warning,
        generation: state.generation + 1,
      }));
      return true;
    },

    async login(serverUrl, email, password) {
      const client = new ApiClient(normalize(serverUrl), null);
      set({ status: 'connecting', problem: null });
      try {
        const pair = await client.login(email, password);
        return await get().connect({
          server_url: serverUrl,
          kind: 'session',
          token: pair.access_token,
          refresh_token: pair.refresh_token,
        });
      } catch (error) {
        const message =
          error instanceof ApiRequestError && error.kind === 'not-found'
            ? 'This server does not offer sign-in; connect with an API token instead.'
            : error instanceof ApiRequestError && error.kind === 'unauthorized'
              ? 'Wrong e-mail or password.'
              : error instanceof Error
                ? error.message
                : String(error);
        set({ status: 'disconnected', problem: message });
        return false;
      }
    },

    async disconnect() {
      clearTimeout(retryTimer);
      await credentialStore.clear();
      set({ status: 'disconnected', client: null, credential: null, problem: null });
    },

    async reportFailure(error) {
      if (!(error instanceof ApiRequestError)) return;
      if (error.kind === 'unreachable' && get().status === 'connected') {
        set({ status: 'unreachable', problem: error.message });
        scheduleRetry();
      } else if (error.kind === 'unauthorized' && get().status === 'connected') {
        if (await renewSession()) return;
        set({
          status: 'unauthorized',
          problem: 'Your session has expired or the token was revoked. Connect again.',
        });
      }
    },
  };
});
