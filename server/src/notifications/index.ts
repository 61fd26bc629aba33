export { NotificationService, toPayload } from './notification-service.js';
export { headline, signWebhook } from './senders.js';
