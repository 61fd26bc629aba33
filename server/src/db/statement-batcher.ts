import DataLoader from 'dataloader';

/**
 * Sends many callers' requests to the database as one statement. A batch goes out as soon as the
 * one before it is back, so under load the batches grow with the number of callers waiting, and
 * an idle process adds no delay but one turn of the event loop. `send` answers each key in
 * order, with a value or an Error for that key alone.
 *
 * When a whole batch fails (one row breaks a constraint, say), each key is sent again on its own,
 * so one bad request fails only its own caller.
 */
export function statementBatcher<K, V>(
  send: (keys: readonly K[]) => Promise<(V | Error)[]>,
  maxBatchSize = 100,
): DataLoader<K, V> {
  let inFlight: Promise<unknown> = Promise.resolve();
  const sendApart = async (keys: readonly K[]): Promise<(V | Error)[]> => {
    try {
      return await send(keys);
    } catch (error) {
      if (keys.length === 1) throw error;
      return Promise.all(
        keys.map((key) =>
          send([key]).then(
            ([value]) => value as V | Error,
            (keyError: unknown) =>
              keyError instanceof Error ? keyError : new Error(String(keyError)),
          ),
        ),
      );
    }
  };
  return new DataLoader<K, V>(
    (keys) => {
      const sent = sendApart(keys);
      inFlight = sent.catch(() => undefined);
      return sent;
    },
    {
      cache: false,
      maxBatchSize,
      batchScheduleFn: (dispatch) => void inFlight.then(() => setImmediate(dispatch)),
    },
  );
}
