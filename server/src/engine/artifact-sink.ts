import type { Logger } from 'pino';
import {
  ArtifactName,
  ContentType,
  SkillError,
  type ArtifactKind,
  type SkillContext,
} from '@webguard/shared';

/** One file a case produced, on its way to the artifact store. */
export interface ArtifactFile {
  kind: ArtifactKind;
  name: string;
  contentType: string;
  /** The bytes in memory, or a file on disk the sink may move or delete afterwards. */
  source: { body: Uint8Array } | { path: string };
}

/** Where a case's artifacts go; the worker stores them and links them to the case's result. */
export interface ArtifactSink {
  add(file: ArtifactFile): Promise<void>;
}

/** The largest attachment one `ctx.attach` call may keep: artifacts are files, not databases. */
export const MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024;

/** What the skill context offers beyond logging and checks: the browser and artifacts. */
export type CaseCapabilities = Pick<
  SkillContext,
  'page' | 'browserContext' | 'browserLaunch' | 'screenshot' | 'attach'
>;

/** Images, videos and Playwright traces are shown as such, whoever attached them. */
function kindOf(name: string, contentType: string): ArtifactKind {
  if (contentType.startsWith('image/')) return 'screenshot';
  if (contentType.startsWith('video/')) return 'video';
  if (contentType.startsWith('application/zip') && /trace.*\.zip$/i.test(name)) return 'trace';
  return 'attachment';
}

function invalid(what: string, value: string, issue: { message: string } | undefined): never {
  throw new SkillError(
    'system',
    `ctx.attach: the ${what} ${JSON.stringify(value)} ${issue?.message ?? 'is invalid'}`,
  );
}

/** `ctx.attach`: checks what the skill passed, then hands it to the sink. */
function attachWith(
  sink: ArtifactSink | undefined,
  logger: Logger | undefined,
): SkillContext['attach'] {
  return async (name, body, contentType) => {
    const checkedName = ArtifactName.safeParse(name);
    if (!checkedName.success) invalid('name', name, checkedName.error.issues[0]);
    const checkedType = ContentType.safeParse(contentType);
    if (!checkedType.success) invalid('content type', contentType, checkedType.error.issues[0]);
    if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
      throw new SkillError('system', 'ctx.attach: the body must be a string or a Uint8Array');
    }
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    if (bytes.byteLength > MAX_ATTACHMENT_BYTES) {
      throw new SkillError(
        'system',
        `ctx.attach: "${checkedName.data}" is ${bytes.byteLength} bytes; an attachment may have at most ${MAX_ATTACHMENT_BYTES}`,
      );
    }
    if (!sink) {
      logger?.debug(`attachment "${checkedName.data}" not kept: this run has no artifact store`);
      return;
    }
    await sink.add({
      kind: kindOf(checkedName.data, checkedType.data),
      name: checkedName.data,
      contentType: checkedType.data,
      source: { body: bytes },
    });
  };
}

/** The browser side of a case (a `CaseBrowser`), as far as the skill context shows it. */
export interface CasePage {
  readonly page: NonNullable<SkillContext['page']>;
  readonly context: NonNullable<SkillContext['browserContext']>;
  readonly launchInfo: SkillContext['browserLaunch'];
  screenshot(name: string): Promise<void>;
}

/** The browser and artifact parts of a case's context; without a browser, screenshots fail. */
export function caseCapabilities(options: {
  browser?: CasePage;
  artifacts?: ArtifactSink;
  logger?: Logger;
}): CaseCapabilities {
  const { browser } = options;
  return {
    page: browser?.page,
    browserContext: browser?.context,
    browserLaunch: browser?.launchInfo,
    screenshot: browser
      ? (name) => browser.screenshot(name)
      : () =>
          Promise.reject(
            new SkillError('system', 'ctx.screenshot needs a page: only browser skills have one'),
          ),
    attach: attachWith(options.artifacts, options.logger),
  };
}
