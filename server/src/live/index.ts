export { LiveKeys } from './keys.js';
export { RunEventPublisher, type RunEventSink } from './run-event-publisher.js';
export { readRunEvents, lastRunSeq } from './run-event-reader.js';
export {
  attemptNumber,
  caseFinishedEvent,
  caseQueuedEvent,
  executionFinishedEvent,
} from './run-event-drafts.js';
export { startLiveServer, DASHBOARD_ROOM, type LiveServer } from './live-server.js';
export { sharedTokenAuthenticator, type LiveAuthenticator } from './socket-auth.js';
export type { ClusterSnapshot } from './dashboard-ticker.js';
export { FramePublisher } from './frame-publisher.js';
