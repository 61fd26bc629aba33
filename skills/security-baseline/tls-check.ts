import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import { NetworkError } from '@webguard/shared';
import type { Finding } from './checks.js';

export interface TlsReport {
  findings: Finding[];
  certificate: {
    subject: string;
    issuer: string;
    valid_from: string;
    valid_to: string;
    days_to_expiry: number;
    protocol: string | null;
    authorized: boolean;
    authorization_error: string | null;
  };
}

const DAY_MS = 86_400_000;

const describeName = (name: PeerCertificate['subject'] | undefined): string =>
  Object.entries(name ?? {})
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : String(value)}`)
    .join(', ');

/**
 * Connects once and judges the certificate the server presents: trust, host name, validity
 * dates and days left. The handshake accepts any certificate so the report can say what is wrong.
 */
export async function checkTls(
  url: URL,
  options: { ca: string | undefined; warnDays: number; timeoutMs: number; signal: AbortSignal },
): Promise<TlsReport> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const socket = connect({
    host,
    port,
    // SNI takes names only, never IP addresses.
    servername: /^[\d.]+$|:/.test(host) ? undefined : host,
    rejectUnauthorized: false,
    ca: options.ca,
    timeout: options.timeoutMs,
  });
  const onAbort = () => socket.destroy(options.signal.reason as Error);
  options.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
      socket.once('timeout', () =>
        reject(new Error(`no TLS handshake within ${options.timeoutMs} ms`)),
      );
    });
  } catch (error) {
    socket.destroy();
    if (options.signal.aborted) throw options.signal.reason;
    const reason = error instanceof Error ? error.message : String(error);
    throw new NetworkError(`TLS connection to ${host}:${port} failed: ${reason}`, { cause: error });
  } finally {
    options.signal.removeEventListener('abort', onAbort);
  }
  const certificate = socket.getPeerCertificate();
  const protocol = socket.getProtocol();
  const authorized = socket.authorized;
  const authorizationError = socket.authorizationError ? String(socket.authorizationError) : null;
  socket.end();

  const validTo = new Date(certificate.valid_to);
  const validFrom = new Date(certificate.valid_from);
  const daysToExpiry = Math.floor((validTo.getTime() - Date.now()) / DAY_MS);
  const evidence = `subject ${describeName(certificate.subject)}; issuer ${describeName(certificate.issuer)}; valid ${certificate.valid_from} – ${certificate.valid_to}`;
  const findings: Finding[] = [];
  if (daysToExpiry < 0) {
    findings.push({
      id: 'tls-certificate-expired',
      severity: 'critical',
      message: `the TLS certificate expired ${-daysToExpiry} days ago`,
      evidence,
    });
  } else if (validFrom.getTime() > Date.now()) {
    findings.push({
      id: 'tls-certificate-not-yet-valid',
      severity: 'high',
      message: `the TLS certificate is not valid before ${certificate.valid_from}`,
      evidence,
    });
  } else if (daysToExpiry < options.warnDays) {
    findings.push({
      id: 'tls-certificate-expiring',
      severity: 'medium',
      message: `the TLS certificate expires in ${daysToExpiry} days (warning below ${options.warnDays})`,
      evidence,
    });
  }
  // Expiry has its own finding; any other reason the chain is not trusted is reported here.
  if (
    !authorized &&
    authorizationError !== 'CERT_HAS_EXPIRED' &&
    authorizationError !== 'CERT_NOT_YET_VALID'
  ) {
    const selfSigned = /SELF_SIGNED/.test(authorizationError ?? '');
    findings.push({
      id: selfSigned ? 'tls-self-signed-certificate' : 'tls-untrusted-certificate',
      severity: 'high',
      message: selfSigned
        ? 'the TLS certificate is self-signed: browsers refuse it'
        : `the TLS certificate is not trusted (${authorizationError ?? 'unknown reason'})`,
      evidence: `${authorizationError ?? ''}; ${evidence}`,
    });
  }
  const mismatch = checkServerIdentity(host, certificate);
  if (mismatch) {
    findings.push({
      id: 'tls-hostname-mismatch',
      severity: 'high',
      message: `the TLS certificate is not for ${host}`,
      evidence: `${mismatch.message}; ${evidence}`,
    });
  }
  return {
    findings,
    certificate: {
      subject: describeName(certificate.subject),
      issuer: describeName(certificate.issuer),
      valid_from: validFrom.toISOString(),
      valid_to: validTo.toISOString(),
      days_to_expiry: daysToExpiry,
      protocol,
      authorized,
      authorization_error: authorizationError,
    },
  };
}
