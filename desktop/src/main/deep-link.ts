/** The app's URL scheme: `webguard://run/123` opens run 123. */
export const PROTOCOL = 'webguard';

/** The run a `webguard://` link points at, or null for anything else. */
export function parseDeepLink(link: string): { execution_id: number } | null {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return null;
  }
  if (url.protocol !== `${PROTOCOL}:`) return null;
  // `webguard://run/123` parses with host `run` and path `/123`; accept `webguard:run/123` too.
  const parts = [url.host, ...url.pathname.split('/')].filter((part) => part !== '');
  if (parts.length !== 2 || parts[0] !== 'run' || !/^\d{1,15}$/.test(parts[1] ?? '')) return null;
  const id = Number(parts[1]);
  return id > 0 ? { execution_id: id } : null;
}

/** A deep link among command-line arguments (Windows and Linux pass it to the second instance). */
export function findDeepLink(argv: readonly string[]): { execution_id: number } | null {
  for (const arg of argv) {
    const parsed = parseDeepLink(arg);
    if (parsed) return parsed;
  }
  return null;
}
