import { io, type Socket } from 'socket.io-client';
import { create } from 'zustand';
import {
  BrowserFrame,
  DashboardTick,
  LIVE_NAMESPACE,
  LiveAck,
  RunEvent,
  type LiveClientToServerEvents,
  type LiveServerToClientEvents,
} from '@webguard/shared';

type LiveSocket = Socket<LiveServerToClientEvents, LiveClientToServerEvents>;

export type LiveStatus = 'off' | 'connecting' | 'online' | 'offline';

interface RunWatch {
  executionId: number;
  frames: boolean;
  /** The next seq this watcher needs; a resubscribe after a reconnect asks from here. */
  nextSeq: () => number;
  onEvent: (event: RunEvent) => void;
  onFrame: (frame: BrowserFrame) => void;
}

export interface LiveState {
  status: LiveStatus;
  /** Why live updates are unavailable, when they are. */
  problem: string | null;
  tick: DashboardTick | null;
  start: (serverUrl: string, token: string | null) => void;
  stop: () => void;
  /** Watches a run; returns the function that stops watching. */
  watchRun: (watch: RunWatch) => () => void;
}

let socket: LiveSocket | null = null;
const watches = new Set<RunWatch>();

function subscribe(
  target: LiveSocket,
  watch: RunWatch,
  onProblem: (message: string) => void,
): void {
  target.emit(
    'run:subscribe',
    { execution_id: watch.executionId, from_seq: watch.nextSeq(), frames: watch.frames },
    (ack) => {
      const parsed = LiveAck.safeParse(ack);
      if (parsed.success && !parsed.data.ok) onProblem(parsed.data.error);
    },
  );
}

/**
 * Socket.IO on the `/live` namespace. It reconnects by itself; after each reconnect every watched
 * run is subscribed again from the last event it saw, so nothing is missed or shown twice.
 */
export const useLive = create<LiveState>((set) => ({
  status: 'off',
  problem: null,
  tick: null,

  start(serverUrl, token) {
    socket?.disconnect();
    const next: LiveSocket = io(`${serverUrl}${LIVE_NAMESPACE}`, {
      auth: token ? { token } : {},
      transports: ['websocket', 'polling'],
      reconnectionDelayMax: 5000,
    });
    socket = next;
    set({ status: 'connecting', problem: null, tick: null });
    const problem = (message: string) => set({ problem: message });
    next.on('connect', () => {
      set({ status: 'online', problem: null });
      next.emit('dashboard:subscribe', () => undefined);
      for (const watch of watches) subscribe(next, watch, problem);
    });
    next.on('disconnect', () => set({ status: 'offline' }));
    next.on('connect_error', (error) => set({ status: 'offline', problem: error.message }));
    next.on('dashboard:tick', (raw) => {
      const parsed = DashboardTick.safeParse(raw);
      if (parsed.success) set({ tick: parsed.data });
    });
    next.on('run:event', (raw) => {
      const parsed = RunEvent.safeParse(raw);
      if (!parsed.success) return;
      for (const watch of watches) {
        if (watch.executionId === parsed.data.execution_id) watch.onEvent(parsed.data);
      }
    });
    next.on('run:frame', (raw) => {
      const parsed = BrowserFrame.safeParse(raw);
      if (!parsed.success) return;
      for (const watch of watches) {
        if (watch.executionId === parsed.data.execution_id) watch.onFrame(parsed.data);
      }
    });
  },

  stop() {
    socket?.disconnect();
    socket = null;
    set({ status: 'off', tick: null });
  },

  watchRun(watch) {
    watches.add(watch);
    if (socket?.connected) subscribe(socket, watch, (message) => set({ problem: message }));
    return () => {
      watches.delete(watch);
      const stillWatched = [...watches].some((other) => other.executionId === watch.executionId);
      if (!stillWatched && socket?.connected) {
        socket.emit('run:unsubscribe', { execution_id: watch.executionId }, () => undefined);
      }
    };
  },
}));
