import { create } from 'zustand';
import type { JsonObject, LocalRunState, LocalSkill } from '@webguard/shared';
import { applyFrame, applyRunEvent, emptyRunView, type RunView } from '../live/run-view';
import { desktop } from '../platform';

export interface LocalRunnerState {
  skill: LocalSkill | null;
  params: JsonObject;
  headed: boolean;
  watch: boolean;
  runId: string | null;
  state: LocalRunState | null;
  view: RunView | null;
  error: string | null;
  pickFolder: () => Promise<void>;
  reload: () => Promise<void>;
  setParams: (params: JsonObject) => void;
  setHeaded: (headed: boolean) => void;
  setWatch: (watch: boolean) => void;
  start: () => Promise<void>;
  stop: () => Promise<void>;
}

/** The desktop's local runner: one skill folder, its params, and the run going on it. */
export const useLocalRunner = create<LocalRunnerState>((set, get) => {
  if (desktop) {
    desktop.onLocalRunEvent(({ run_id, event }) => {
      if (run_id !== get().runId) return;
      // Each iteration of a watched run starts over at seq 1 with a fresh picture.
      set((state) => ({
        view: applyRunEvent(
          event.seq === 1 || !state.view ? emptyRunView(event.execution_id) : state.view,
          event,
        ),
      }));
    });
    desktop.onLocalRunFrame(({ run_id, frame }) => {
      if (run_id === get().runId)
        set((state) => ({ view: state.view ? applyFrame(state.view, frame) : state.view }));
    });
    desktop.onLocalRunState((payload) => {
      if (payload.run_id === get().runId) set({ state: payload });
    });
  }

  const inspect = async (folder: string) => {
    if (!desktop) return;
    const skill = await desktop.inspectSkill(folder);
    set({ skill, error: null });
  };

  return {
    skill: null,
    params: {},
    headed: false,
    watch: true,
    runId: null,
    state: null,
    view: null,
    error: null,
    async pickFolder() {
      if (!desktop) return;
      const { folder } = await desktop.pickSkillFolder();
      if (folder) {
        set({ params: {}, view: null, state: null });
        await inspect(folder);
      }
    },
    async reload() {
      const folder = get().skill?.folder;
      if (folder) await inspect(folder);
    },
    setParams: (params) => set({ params }),
    setHeaded: (headed) => set({ headed }),
    setWatch: (watch) => set({ watch }),
    async start() {
      const { skill, params, headed, watch, runId } = get();
      if (!desktop || !skill?.ok) return;
      if (runId) await desktop.stopLocalRun(runId);
      try {
        const started = await desktop.startLocalRun({
          folder: skill.folder,
          params,
          headed,
          watch,
        });
        set({ runId: started.run_id, view: null, state: null, error: null });
      } catch (error) {
        set({ error: error instanceof Error ? error.message : String(error) });
      }
    },
    async stop() {
      const { runId } = get();
      if (desktop && runId) await desktop.stopLocalRun(runId);
    },
  };
});
