/**
 * The contract between the API and the listeners for control messages (DESIGN.md, "Replicas and
 * ownership"): what happened to a mailbox, announced after the database committed it. A message only
 * says "look at this mailbox now"; the listener reads what to do from the database, so a lost, late or
 * repeated message is harmless (the periodic reconcile is the safety net).
 */
export const MAILBOX_CONTROL_KINDS = ['created', 'changed', 'disabled', 'deleted', 'resync-requested', 'token-changed'] as const;
export type MailboxControlKind = (typeof MAILBOX_CONTROL_KINDS)[number];

export interface MailboxControlMessage {
  kind: MailboxControlKind;
  mailboxId: string;
}

/**
 * What happened to a provider's app-only (client credentials) token: obtained, obtained again after it
 * turned invalid, or forgotten. Every mailbox of the provider signs in with it, so the listeners running
 * them look at those mailboxes now (a runner waiting for the token connects, one whose token went stops).
 */
export const PROVIDER_CONTROL_KINDS = ['app-token-changed'] as const;
export type ProviderControlKind = (typeof PROVIDER_CONTROL_KINDS)[number];

export interface ProviderControlMessage {
  kind: ProviderControlKind;
  providerId: string;
}

/** Every control message: about one mailbox, or about a provider's app-only token. */
export type ControlMessage = MailboxControlMessage | ProviderControlMessage;

/**
 * The one event pattern (Redis channel) carrying them, under QUEUE_PREFIX: deployments or test runs
 * sharing one Redis do not hear each other's messages.
 */
export function mailboxControlPattern(queuePrefix: string): string {
  return `${queuePrefix}:control:mailbox`;
}

/** Messages come off a shared Redis: anything else on the channel is ignored, not trusted. */
export function isMailboxControlMessage(value: unknown): value is MailboxControlMessage {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, mailboxId } = value as Record<string, unknown>;
  return typeof mailboxId === 'string' && (MAILBOX_CONTROL_KINDS as readonly unknown[]).includes(kind);
}

export function isProviderControlMessage(value: unknown): value is ProviderControlMessage {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, providerId } = value as Record<string, unknown>;
  return typeof providerId === 'string' && (PROVIDER_CONTROL_KINDS as readonly unknown[]).includes(kind);
}
