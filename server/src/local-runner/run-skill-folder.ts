import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  LIVE_EVENTS_VERSION,
  type BrowserFrame,
  type CaseOutcome,
  type JsonObject,
  type RunEvent,
  type RunEventDraft,
} from '@webguard/shared';
import { runCase, type ArtifactFile, type ArtifactSink } from '../engine/index.js';
import type { FrameSink } from '../engine/browser/index.js';
import { createSkillImporter } from '../skills/import-skill-module.js';
import { SKILL_FILES, loadFolder, type LoadedSkill } from '../skills/load-skills.js';

/** A skill folder loaded on its own, or why it does not load. */
export type FolderSkill =
  { ok: true; folder: string; skill: LoadedSkill } | { ok: false; folder: string; error: string };

/**
 * Loads the one skill in `folder` with the server's loader (compiled on the fly, shape-checked),
 * without touching the folders beside it.
 */
export async function loadSkillFolder(folder: string): Promise<FolderSkill> {
  const absolute = resolve(folder);
  const file = SKILL_FILES.map((name) => join(absolute, name)).find((path) => existsSync(path));
  if (!file) {
    return {
      ok: false,
      folder: absolute,
      error: `${absolute} holds no skill: it needs a skill.ts (or skill.mjs / skill.js) exporting defineSkill({...})`,
    };
  }
  const result = await loadFolder(absolute, file, createSkillImporter());
  return result.ok
    ? { ok: true, folder: absolute, skill: result.skill }
    : { ok: false, folder: absolute, error: result.error.message };
}

export interface RunSkillFolderOptions {
  folder: string;
  params: JsonObject;
  headed: boolean;
  timeoutMs: number;
  chromiumPath?: string | null;
  /** Where screenshots and other files go; default a new temporary folder. */
  artifactsDir?: string;
  /** Told whether the folder loaded, before anything runs. */
  onLoaded?: (loaded: FolderSkill) => void;
  /** Receives live frames of a browser skill's page; none are taken without it. */
  onFrame?: (frame: BrowserFrame) => void;
  /** Receives every event, in order, numbered from 1. */
  emit: (event: RunEvent) => void;
  signal?: AbortSignal;
}

/** The local runner has no database: its one run is execution 0 and its one case has id 0. */
const LOCAL_EXECUTION = 0;
const LOCAL_CASE = 0;
/** Enough to follow a page move by move without flooding IPC. */
const LOCAL_FRAMES_PER_SECOND = 4;

/** Keeps a local run's files in a folder and announces each one as it lands. */
class FolderSink implements ArtifactSink {
  private count = 0;
  constructor(
    private readonly dir: string,
    private readonly announce: (file: ArtifactFile, path: string, size: number) => void,
  ) {}

  async add(file: ArtifactFile): Promise<void> {
    this.count += 1;
    const path = join(this.dir, `${this.count}-${basename(file.name)}`);
    if ('body' in file.source) await writeFile(path, file.source.body);
    else await copyFile(file.source.path, path);
    const { size } = await stat(path);
    this.announce(file, path, size);
  }
}

/**
 * Runs the skill in `folder` once through the same engine as the cluster's workers, reporting
 * progress as the live event contract's run events. Never throws for a failing skill: a skill that
 * does not load, throws or times out ends as a finished run with that error.
 */
export async function runSkillFolder(options: RunSkillFolderOptions): Promise<CaseOutcome | null> {
  let seq = 0;
  const emit = (draft: RunEventDraft) => {
    seq += 1;
    options.emit({
      ...draft,
      v: LIVE_EVENTS_VERSION,
      seq,
      time: draft.time ?? new Date().toISOString(),
    });
  };
  const base = { execution_id: LOCAL_EXECUTION };
  const loaded = await loadSkillFolder(options.folder);
  options.onLoaded?.(loaded);
  const caseName = loaded.ok ? loaded.skill.info.name : basename(loaded.folder);
  const ref = { ...base, case_id: LOCAL_CASE, case_name: caseName };
  emit({
    ...base,
    type: 'execution.queued',
    suite_id: null,
    suite_name: caseName,
    total_tests: 1,
    triggered_by: 'local',
  });
  emit({ ...base, type: 'execution.started' });
  const started = Date.now();

  const finish = (
    status: 'passed' | 'failed' | 'error' | 'timeout',
    outcome: CaseOutcome | null,
  ) => {
    const passed = status === 'passed' ? 1 : 0;
    emit({
      ...base,
      type: 'execution.finished',
      status:
        status === 'timeout'
          ? 'timeout'
          : status === 'passed'
            ? 'passed'
            : status === 'error'
              ? 'error'
              : 'failed',
      total_tests: 1,
      passed_tests: passed,
      failed_tests: 1 - passed,
      skipped_tests: 0,
      duration_ms: outcome?.execution_time_ms ?? Date.now() - started,
    });
  };

  if (!loaded.ok) {
    emit({ ...ref, type: 'case.started', skill_name: caseName, attempt: 1 });
    emit({
      ...ref,
      type: 'case.finished',
      status: 'error',
      error_type: 'system',
      error_message: loaded.error,
      duration_ms: 0,
      attempt: 1,
      will_retry: false,
      result_id: null,
    });
    finish('error', null);
    return null;
  }

  const artifactsDir = options.artifactsDir ?? (await mkdtemp(join(tmpdir(), 'webguard-local-')));
  const sink = new FolderSink(artifactsDir, (file, path, size) =>
    emit({
      ...ref,
      type: 'artifact.added',
      artifact: {
        id: null,
        kind: file.kind,
        name: file.name,
        content_type: file.contentType,
        size_bytes: size,
        url: pathToFileURL(path).href,
      },
    }),
  );
  const { definition } = loaded.skill;
  // Playwright is loaded for browser skills only: it takes about half a second to import, which
  // every other command (`webguard --help` too) would otherwise pay.
  const browsers =
    definition.category === 'browser'
      ? new (await import('../engine/browser/browser-pool.js')).BrowserPool({
          headless: !options.headed,
          ...(options.chromiumPath ? { chromiumPath: options.chromiumPath } : {}),
        })
      : undefined;
  const { onFrame } = options;
  let frameCount = 0;
  // Someone always watches a local run: the app or the terminal that started it.
  const frames: FrameSink | undefined = onFrame && {
    fps: LOCAL_FRAMES_PER_SECOND,
    watched: () => Promise.resolve(true),
    frame: (frame) => {
      frameCount += 1;
      onFrame({
        v: LIVE_EVENTS_VERSION,
        type: 'browser.frame',
        ...ref,
        frame: frameCount,
        time: new Date().toISOString(),
        ...frame,
      });
    },
  };
  emit({ ...ref, type: 'case.started', skill_name: definition.name, attempt: 1 });
  try {
    const outcome = await runCase({
      skill: definition,
      params: options.params,
      caseName,
      executionId: null,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      browsers,
      artifacts: sink,
      frames,
      onLog: (entry) => emit({ ...ref, type: 'log', entry }),
      onStepStart: (step) => emit({ ...ref, type: 'step.started', name: step.name }),
      onStep: (step) => emit({ ...ref, type: 'step.finished', step }),
      onMetric: (metric) => emit({ ...ref, type: 'metric', metric }),
    });
    emit({
      ...ref,
      type: 'case.finished',
      status: outcome.status,
      error_type: outcome.error_type,
      error_message: outcome.error_message,
      duration_ms: outcome.execution_time_ms,
      attempt: 1,
      will_retry: false,
      result_id: null,
    });
    finish(
      outcome.status === 'passed'
        ? 'passed'
        : outcome.status === 'timeout'
          ? 'timeout'
          : outcome.status === 'error'
            ? 'error'
            : 'failed',
      outcome,
    );
    return outcome;
  } finally {
    await browsers?.close();
  }
}
