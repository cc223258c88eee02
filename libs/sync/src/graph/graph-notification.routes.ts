import { GRAPH_NOTIFICATIONS_QUEUE, GraphNotificationItem } from '@app/graph';

/**
 * The queue only one replica consumes: notifications for the mailboxes it holds, forwarded by whichever
 * replica took them off the shared `graph-notifications`. BullMQ refuses ':' in queue names; LISTENER_ID
 * cannot contain one (nor can the default, host name and pid).
 */
export function replicaNotificationsQueue(replicaId: string): string {
  return `${GRAPH_NOTIFICATIONS_QUEUE}.${replicaId}`;
}

/**
 * The id of the job forwarding (part of) shared job `sourceJobId`: the same on every attempt, so a router
 * that forwarded and then died before completing the shared job forwards again under the same id, and
 * BullMQ drops the second while the first still waits. (Custom ids may not be plain integers, which the
 * shared queue's own ids are.)
 */
export function forwardedJobId(sourceJobId: string): string {
  return `from-${sourceJobId}`;
}

export interface NotificationRoutes {
  /** Items for mailboxes this replica holds, or that nobody holds (no leases yet: whoever runs it here). */
  local: GraphNotificationItem[];
  /** Items for mailboxes another live replica holds, by that replica. */
  forward: Map<string, GraphNotificationItem[]>;
}

/** Splits a job's items by the replica that runs their mailbox (`owners`: live lease owners by mailbox id). */
export function routeByOwner(items: GraphNotificationItem[], owners: ReadonlyMap<string, string>, me: string): NotificationRoutes {
  const routes: NotificationRoutes = { local: [], forward: new Map() };
  for (const item of items) {
    const owner = owners.get(item.mailboxId);
    if (owner === undefined || owner === me) {
      routes.local.push(item);
      continue;
    }
    const forOwner = routes.forward.get(owner);
    if (forOwner) forOwner.push(item);
    else routes.forward.set(owner, [item]);
  }
  return routes;
}
