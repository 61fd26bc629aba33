/** Passive checks on what a site answers; each returns findings and never sends anything. */

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Finding {
  /** Stable id, e.g. `missing-csp`, for filtering and trends. */
  id: string;
  severity: Severity;
  message: string;
  /** What was seen: a header value, a URL, a certificate field. */
  evidence: string;
}

export const severityRank = (severity: Severity): number => SEVERITIES.indexOf(severity);

export type Headers = Record<string, string | string[] | undefined>;

const one = (headers: Headers, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};

/** Six months, the least HSTS preload lists accept. */
const MIN_HSTS_SECONDS = 15_552_000;

export function checkSecurityHeaders(headers: Headers, https: boolean): Finding[] {
  const findings: Finding[] = [];
  const csp = one(headers, 'content-security-policy');
  if (!csp) {
    findings.push({
      id: 'missing-csp',
      severity: 'medium',
      message: 'no Content-Security-Policy: injected scripts run unchecked',
      evidence: 'Content-Security-Policy header absent',
    });
  } else if (/(?:^|;)\s*(?:script-src|default-src)[^;]*'unsafe-inline'/i.test(csp)) {
    findings.push({
      id: 'csp-unsafe-inline',
      severity: 'low',
      message: "the Content-Security-Policy allows inline scripts ('unsafe-inline')",
      evidence: csp,
    });
  }
  if (https) {
    const hsts = one(headers, 'strict-transport-security');
    const maxAge = Number(/max-age\s*=\s*"?(\d+)/i.exec(hsts ?? '')?.[1] ?? Number.NaN);
    if (!hsts) {
      findings.push({
        id: 'missing-hsts',
        severity: 'medium',
        message: 'no Strict-Transport-Security: browsers may still try plain http first',
        evidence: 'Strict-Transport-Security header absent',
      });
    } else if (!(maxAge >= MIN_HSTS_SECONDS)) {
      findings.push({
        id: 'weak-hsts',
        severity: 'low',
        message: `Strict-Transport-Security max-age is below ${MIN_HSTS_SECONDS} s (180 days)`,
        evidence: hsts,
      });
    }
  }
  const frameOptions = one(headers, 'x-frame-options');
  if (!frameOptions && !/frame-ancestors/i.test(csp ?? '')) {
    findings.push({
      id: 'missing-frame-protection',
      severity: 'medium',
      message:
        'neither X-Frame-Options nor CSP frame-ancestors: the page can be framed (clickjacking)',
      evidence: 'X-Frame-Options absent, no frame-ancestors in the CSP',
    });
  }
  const noSniff = one(headers, 'x-content-type-options');
  if (noSniff?.trim().toLowerCase() !== 'nosniff') {
    findings.push({
      id: 'missing-x-content-type-options',
      severity: 'low',
      message: 'X-Content-Type-Options is not "nosniff": browsers may guess content types',
      evidence: noSniff === undefined ? 'X-Content-Type-Options absent' : noSniff,
    });
  }
  const referrer = one(headers, 'referrer-policy');
  if (!referrer) {
    findings.push({
      id: 'missing-referrer-policy',
      severity: 'low',
      message: 'no Referrer-Policy: full URLs may leak to other sites',
      evidence: 'Referrer-Policy header absent',
    });
  } else if (/unsafe-url/i.test(referrer)) {
    findings.push({
      id: 'weak-referrer-policy',
      severity: 'low',
      message: 'Referrer-Policy unsafe-url sends full URLs to every site',
      evidence: referrer,
    });
  }
  if (!one(headers, 'permissions-policy')) {
    findings.push({
      id: 'missing-permissions-policy',
      severity: 'low',
      message: 'no Permissions-Policy: embedded content may ask for camera, location and the like',
      evidence: 'Permissions-Policy header absent',
    });
  }
  return findings;
}

/** Cookie names that usually carry a session, where a missing HttpOnly matters more. */
const SESSION_COOKIE = /sess|sid|token|auth|jwt|login/i;

export function checkCookies(headers: Headers, https: boolean): Finding[] {
  const raw = headers['set-cookie'];
  const cookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const findings: Finding[] = [];
  for (const cookie of cookies) {
    const [pair = '', ...attributes] = cookie.split(';').map((part) => part.trim());
    const name = pair.split('=')[0] ?? '';
    const has = (attribute: string) =>
      attributes.some((part) => part.toLowerCase().startsWith(attribute));
    const sameSite = attributes
      .find((part) => part.toLowerCase().startsWith('samesite'))
      ?.split('=')[1]
      ?.trim()
      .toLowerCase();
    const evidence = `Set-Cookie: ${name}=…; ${attributes.join('; ')}`.replace(/; $/, '');
    if (https && !has('secure'))
      findings.push({
        id: 'cookie-without-secure',
        severity: 'medium',
        message: `cookie ${name} lacks Secure: it is also sent over plain http`,
        evidence,
      });
    if (!has('httponly'))
      findings.push({
        id: 'cookie-without-httponly',
        severity: SESSION_COOKIE.test(name) ? 'medium' : 'low',
        message: `cookie ${name} lacks HttpOnly: scripts on the page can read it`,
        evidence,
      });
    if (sameSite === undefined)
      findings.push({
        id: 'cookie-without-samesite',
        severity: 'low',
        message: `cookie ${name} has no SameSite attribute`,
        evidence,
      });
    else if (sameSite === 'none' && !has('secure'))
      findings.push({
        id: 'cookie-samesite-none-without-secure',
        severity: 'medium',
        message: `cookie ${name} is SameSite=None without Secure; browsers reject it`,
        evidence,
      });
  }
  return findings;
}

export function checkDisclosure(headers: Headers): Finding[] {
  const findings: Finding[] = [];
  const server = one(headers, 'server');
  if (server && /\d/.test(server))
    findings.push({
      id: 'server-version-disclosure',
      severity: 'low',
      message: 'the Server header names a software version, which helps attackers pick exploits',
      evidence: `Server: ${server}`,
    });
  for (const name of ['x-powered-by', 'x-aspnet-version', 'x-aspnetmvc-version']) {
    const value = one(headers, name);
    if (value)
      findings.push({
        id: `${name}-disclosure`,
        severity: 'low',
        message: `the ${name} header names the software behind the site`,
        evidence: `${name}: ${value}`,
      });
  }
  return findings;
}

/** Judges the answer to a request sent with `Origin: probeOrigin`. */
export function checkCors(headers: Headers, probeOrigin: string): Finding[] {
  const allowOrigin = one(headers, 'access-control-allow-origin')?.trim();
  const credentials =
    one(headers, 'access-control-allow-credentials')?.trim().toLowerCase() === 'true';
  const evidence = `Access-Control-Allow-Origin: ${allowOrigin ?? '(none)'}; Access-Control-Allow-Credentials: ${credentials}`;
  if (allowOrigin === probeOrigin && credentials)
    return [
      {
        id: 'cors-reflects-origin-with-credentials',
        severity: 'high',
        message: `any site can read authenticated responses: the Origin ${probeOrigin} was echoed back with credentials allowed`,
        evidence,
      },
    ];
  if (allowOrigin === '*' && credentials)
    return [
      {
        id: 'cors-wildcard-with-credentials',
        severity: 'medium',
        message: 'Access-Control-Allow-Origin * is combined with credentials',
        evidence,
      },
    ];
  if (allowOrigin === probeOrigin)
    return [
      {
        id: 'cors-reflects-origin',
        severity: 'info',
        message: `the Origin ${probeOrigin} was echoed back (no credentials): any site can read public responses`,
        evidence,
      },
    ];
  return [];
}

const ACTIVE_TAGS = new Set(['script', 'iframe', 'frame', 'object', 'embed', 'link', 'form']);
const RESOURCE =
  /<(script|img|iframe|frame|link|audio|video|source|object|embed|form)\b[^>]*?\s(?:src|href|data|action)\s*=\s*["']?(http:\/\/[^"'\s>]+)/gi;
const MAX_EVIDENCE_URLS = 10;

/** http:// resources on an https page: scripts and frames (active) weigh more than images. */
export function checkMixedContent(html: string): Finding[] {
  const active: string[] = [];
  const passive: string[] = [];
  for (const match of html.matchAll(RESOURCE)) {
    const [, tag = '', url = ''] = match;
    (ACTIVE_TAGS.has(tag.toLowerCase()) ? active : passive).push(`<${tag.toLowerCase()}> ${url}`);
  }
  const findings: Finding[] = [];
  if (active.length > 0)
    findings.push({
      id: 'mixed-content-active',
      severity: 'medium',
      message: `the https page loads ${active.length} script, frame or style resources over plain http`,
      evidence: active.slice(0, MAX_EVIDENCE_URLS).join(', '),
    });
  if (passive.length > 0)
    findings.push({
      id: 'mixed-content-passive',
      severity: 'low',
      message: `the https page loads ${passive.length} images or media over plain http`,
      evidence: passive.slice(0, MAX_EVIDENCE_URLS).join(', '),
    });
  return findings;
}

/** A file that should never be served, and how to tell it from a page that merely answers 200. */
export interface ExposedFileProbe {
  path: string;
  severity: Severity;
  what: string;
  looksReal(body: Buffer): boolean;
}

const text = (body: Buffer) => body.toString('latin1');

export const EXPOSED_FILE_PROBES: ExposedFileProbe[] = [
  {
    path: '/.git/config',
    severity: 'high',
    what: 'the git repository config',
    looksReal: (b) => /\[core\]/.test(text(b)),
  },
  {
    path: '/.git/HEAD',
    severity: 'high',
    what: 'the git repository',
    looksReal: (b) => /^ref: refs\//.test(text(b)),
  },
  {
    path: '/.env',
    severity: 'critical',
    what: 'an environment file (often secrets)',
    looksReal: (b) => /^\s*[A-Z][A-Z0-9_]*\s*=/m.test(text(b)) && !/<html/i.test(text(b)),
  },
  {
    path: '/.DS_Store',
    severity: 'low',
    what: 'a macOS folder index listing file names',
    looksReal: (b) => b.subarray(4, 8).toString('latin1') === 'Bud1',
  },
  {
    path: '/backup.zip',
    severity: 'high',
    what: 'a backup archive',
    looksReal: (b) => b.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1')),
  },
  {
    path: '/backup.tar.gz',
    severity: 'high',
    what: 'a backup archive',
    looksReal: (b) => b[0] === 0x1f && b[1] === 0x8b,
  },
  {
    path: '/backup.sql',
    severity: 'high',
    what: 'a database dump',
    looksReal: (b) => /CREATE TABLE|INSERT INTO/i.test(text(b)),
  },
  {
    path: '/.htpasswd',
    severity: 'high',
    what: 'a password file',
    looksReal: (b) => /^[^:\s<]+:\S+$/m.test(text(b)),
  },
  {
    path: '/phpinfo.php',
    severity: 'medium',
    what: 'a PHP configuration dump',
    looksReal: (b) => /PHP Version|phpinfo\(\)/.test(text(b)),
  },
  {
    path: '/server-status',
    severity: 'medium',
    what: 'the Apache status page',
    looksReal: (b) => /Apache Server Status/i.test(text(b)),
  },
];
