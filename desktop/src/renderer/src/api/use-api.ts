import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiClient } from './client';
import { useConnection } from '../stores/connection';

export interface ApiData<T> {
  data: T | undefined;
  error: Error | null;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads data with the connected client and loads it again after a reconnect. Failures go to the
 * connection store too, which turns a lost server or an expired token into its own screen.
 */
export function useApi<T>(
  load: (client: ApiClient) => Promise<T>,
  deps: unknown[],
  options: { pollMs?: number | null } = {},
): ApiData<T> {
  const client = useConnection((state) => state.client);
  const generation = useConnection((state) => state.generation);
  const reportFailure = useConnection((state) => state.reportFailure);
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(true);
  const [nonce, setNonce] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    if (!client) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = (first: boolean) => {
      if (first) setLoading(true);
      loadRef.current(client).then(
        (value) => {
          if (cancelled) return;
          setData(value);
          setError(null);
          setLoading(false);
          if (options.pollMs) timer = setTimeout(() => run(false), options.pollMs);
        },
        (failure: unknown) => {
          if (cancelled) return;
          setError(failure instanceof Error ? failure : new Error(String(failure)));
          setLoading(false);
          void reportFailure(failure);
        },
      );
    };
    run(true);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
    // The caller's deps decide when to load again, like useEffect's.
  }, [client, generation, nonce, options.pollMs, reportFailure, ...deps]);

  const reload = useCallback(() => setNonce((value) => value + 1), []);
  return { data, error, loading, reload };
}
