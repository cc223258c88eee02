/**
 * What the API's webhook receiver hands to the listener: the items of one notification POST that passed
 * the checks (known subscription, matching clientState), as one job on an internal BullMQ queue. The
 * listener only needs to know which folder to run a delta for (or which lifecycle event arrived); the
 * message itself is always read back through delta, never trusted from the notification.
 */
export const GRAPH_NOTIFICATIONS_QUEUE = 'graph-notifications';
export const GRAPH_NOTIFICATIONS_JOB = 'notifications';

export const GRAPH_LIFECYCLE_EVENTS = ['reauthorizationRequired', 'subscriptionRemoved', 'missed'] as const;
export type GraphLifecycleEvent = (typeof GRAPH_LIFECYCLE_EVENTS)[number];

export interface GraphNotificationItem {
  subscriptionId: string;
  mailboxId: string;
  folderId: string;
  kind: 'change' | 'lifecycle';
  /** `created`, `updated` … for change notifications. */
  changeType?: string;
  /** Graph's resourceData.id (the message id) for change notifications. */
  messageId?: string;
  lifecycleEvent?: GraphLifecycleEvent;
}

export interface GraphNotificationJob {
  /** When the API accepted the POST (ISO); end-to-end latency is measured from here. */
  receivedAt: string;
  items: GraphNotificationItem[];
}
