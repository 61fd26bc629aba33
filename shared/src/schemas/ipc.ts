import { z } from 'zod';
import { JsonObject } from './common.js';
import { BrowserFrame, RunEvent } from './events.js';
import { SkillInfo } from './skill.js';

/**
 * The desktop app's IPC contract: every call the renderer makes into the main process and every
 * message main pushes back, one schema each. Main validates requests and the preload validates
 * pushes, so neither side trusts the other's types alone. The local runner's child process speaks
 * the `LocalRunner*` messages below over Node's process channel.
 */

const ServerUrl = z
  .string()
  .trim()
  .url('must be a URL such as http://127.0.0.1:8000')
  .refine((url) => /^https?:\/\//.test(url), 'must start with http:// or https://');

/** How the OS keeps secrets: `os` is the keychain (safeStorage), `plain` a readable file. */
export const TokenStorageKind = z.enum(['os', 'plain']);
export type TokenStorageKind = z.infer<typeof TokenStorageKind>;

export const AppInfo = z.object({
  version: z.string(),
  platform: z.string(),
  token_storage: TokenStorageKind,
});
export type AppInfo = z.infer<typeof AppInfo>;

/** A saved connection: the server, and the credential the user connected with. */
export const StoredCredential = z.object({
  server_url: ServerUrl,
  /** `token`: an API token; `session`: an access token from login, renewed with the refresh token. */
  kind: z.enum(['token', 'session']),
  token: z.string().min(1).max(4096),
  refresh_token: z.string().min(1).max(4096).nullable(),
});
export type StoredCredential = z.infer<typeof StoredCredential>;

export const TokenSaveResult = z.object({
  storage: TokenStorageKind,
  /** Set when the token could only be kept in plain text. */
  warning: z.string().nullable(),
});
export type TokenSaveResult = z.infer<typeof TokenSaveResult>;

const Folder = z.string().trim().min(1, 'choose a skill folder').max(4096);

/** A skill folder as the local runner sees it: the loaded skill, or why it does not load. */
export const LocalSkill = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), folder: z.string(), skill: SkillInfo }),
  z.object({ ok: z.literal(false), folder: z.string(), error: z.string() }),
]);
export type LocalSkill = z.infer<typeof LocalSkill>;

export const LocalRunRequest = z.strictObject({
  folder: Folder,
  params: JsonObject.default({}),
  /** Show the browser window (browser skills). */
  headed: z.boolean().default(false),
  /** Run again whenever a file in the folder changes. */
  watch: z.boolean().default(false),
  /** A limit for the whole case; a hanging skill is stopped after it. */
  timeout_ms: z
    .number()
    .int()
    .min(1000)
    .max(24 * 3600 * 1000)
    .default(5 * 60 * 1000),
});
export type LocalRunRequest = z.input<typeof LocalRunRequest>;

export const LocalRunId = z.object({ run_id: z.string().min(1).max(100) });
export type LocalRunId = z.infer<typeof LocalRunId>;

/** Where a local run stands, pushed whenever it changes. */
export const LocalRunState = z.object({
  run_id: z.string(),
  state: z.enum(['starting', 'running', 'watching', 'finished', 'crashed', 'stopped']),
  /** Counts the runs of a watched folder, from 1. */
  iteration: z.number().int().min(1),
  message: z.string().nullable(),
});
export type LocalRunState = z.infer<typeof LocalRunState>;

export const LocalRunEvent = z.object({ run_id: z.string(), event: RunEvent });
export type LocalRunEvent = z.infer<typeof LocalRunEvent>;

export const LocalRunFrame = z.object({ run_id: z.string(), frame: BrowserFrame });
export type LocalRunFrame = z.infer<typeof LocalRunFrame>;

export const OpenRunRequest = z.object({ execution_id: z.number().int().positive() });
export type OpenRunRequest = z.infer<typeof OpenRunRequest>;

/** Main asks the renderer to show one of its pages (menu items). */
export const NavigateRequest = z.object({
  path: z.string().regex(/^\/[\w\-/?=&]*$/, 'must be a path of the app such as /runs'),
});
export type NavigateRequest = z.infer<typeof NavigateRequest>;

const Empty = z.undefined();

/** Renderer → main calls (`ipcRenderer.invoke`), each with its request and response schema. */
export const IPC_INVOKE = {
  'app:info': { request: Empty, response: AppInfo },
  'credential:load': { request: Empty, response: StoredCredential.nullable() },
  'credential:save': { request: StoredCredential, response: TokenSaveResult },
  'credential:clear': { request: Empty, response: z.null() },
  'runner:pick-folder': { request: Empty, response: z.object({ folder: z.string().nullable() }) },
  'runner:inspect': { request: z.object({ folder: Folder }), response: LocalSkill },
  'runner:start': { request: LocalRunRequest, response: LocalRunId },
  'runner:stop': { request: LocalRunId, response: z.object({ stopped: z.boolean() }) },
} as const;
export type IpcInvokeChannel = keyof typeof IPC_INVOKE;
export type IpcRequest<C extends IpcInvokeChannel> = z.input<(typeof IPC_INVOKE)[C]['request']>;
export type IpcResponse<C extends IpcInvokeChannel> = z.infer<(typeof IPC_INVOKE)[C]['response']>;

/** Main → renderer pushes (`webContents.send`). */
export const IPC_PUSH = {
  'runner:event': LocalRunEvent,
  'runner:frame': LocalRunFrame,
  'runner:state': LocalRunState,
  'app:open-run': OpenRunRequest,
  'app:navigate': NavigateRequest,
} as const;
export type IpcPushChannel = keyof typeof IPC_PUSH;
export type IpcPush<C extends IpcPushChannel> = z.infer<(typeof IPC_PUSH)[C]>;

/**
 * What the preload exposes as `window.api`: one method per call, one `on*` per push, each
 * returning its unsubscribe function. The renderer never sees a channel name.
 */
export interface DesktopApi {
  appInfo(): Promise<AppInfo>;
  loadCredential(): Promise<StoredCredential | null>;
  saveCredential(credential: StoredCredential): Promise<TokenSaveResult>;
  clearCredential(): Promise<null>;
  pickSkillFolder(): Promise<{ folder: string | null }>;
  inspectSkill(folder: string): Promise<LocalSkill>;
  startLocalRun(request: LocalRunRequest): Promise<LocalRunId>;
  stopLocalRun(runId: string): Promise<{ stopped: boolean }>;
  onLocalRunEvent(listener: (payload: LocalRunEvent) => void): () => void;
  onLocalRunFrame(listener: (payload: LocalRunFrame) => void): () => void;
  onLocalRunState(listener: (payload: LocalRunState) => void): () => void;
  onOpenRun(listener: (payload: OpenRunRequest) => void): () => void;
  onNavigate(listener: (payload: NavigateRequest) => void): () => void;
}

/** Host → local runner child: run this once. */
export const LocalRunnerStart = z.object({
  type: z.literal('start'),
  folder: z.string(),
  params: JsonObject,
  headed: z.boolean(),
  timeout_ms: z.number().int().positive(),
  chromium_path: z.string().nullable(),
});
export type LocalRunnerStart = z.infer<typeof LocalRunnerStart>;

/** Host → local runner child: load the folder and say what skill it holds. */
export const LocalRunnerInspect = z.object({ type: z.literal('inspect'), folder: z.string() });
export type LocalRunnerInspect = z.infer<typeof LocalRunnerInspect>;

export const LocalRunnerHostMessage = z.discriminatedUnion('type', [
  LocalRunnerStart,
  LocalRunnerInspect,
]);
export type LocalRunnerHostMessage = z.infer<typeof LocalRunnerHostMessage>;

/** Local runner child → host. */
export const LocalRunnerChildMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('skill'), skill: LocalSkill }),
  z.object({ type: z.literal('event'), event: RunEvent }),
  z.object({ type: z.literal('frame'), frame: BrowserFrame }),
  z.object({ type: z.literal('done') }),
]);
export type LocalRunnerChildMessage = z.infer<typeof LocalRunnerChildMessage>;
