import { planStatusChange, StatusChange } from './status-change';
import { StatusSnapshot } from './status-snapshot';

const mailbox = { id: '6f110208-1f74-4558-84ac-c4ca9dee9c58', email: 'ana@contoso.com', externalId: 'crm-7' };
const at = new Date('2026-11-21T10:00:00Z');
const row = (over: Partial<StatusSnapshot> = {}): StatusSnapshot => ({ state: 'connected', version: 4, lastErrorCode: null, ownerId: 'replica-a', exists: true, ...over });

function change(plan: ReturnType<typeof planStatusChange>): StatusChange {
  if (plan.kind !== 'change') throw new Error(`expected a change, got ${plan.kind}`);
  return plan.change;
}

describe('planStatusChange', () => {
  it('moves the version and keys the state_changed event by it', () => {
    const c = change(planStatusChange(mailbox, row(), 'dropped', { code: 'ECONNRESET', message: 'reset' }, 'replica-a', at));
    expect(c).toMatchObject({ next: 'backoff', version: 5, ownerId: 'replica-a', errorMode: 'set', authMode: 'keep' });
    expect(c.event).toEqual({
      id: `mailbox.state_changed.${mailbox.id}.5`,
      type: 'mailbox.state_changed',
      version: 1,
      occurredAt: at.toISOString(),
      mailbox,
      state: 'backoff',
      previous: 'connected',
      reason: { code: 'ECONNRESET', message: 'reset' },
    });
    expect(c.after).toEqual({ state: 'backoff', version: 5, lastErrorCode: 'ECONNRESET', ownerId: 'replica-a', exists: true });
  });

  it('a disable (the API: no owner, no reason) frees the mailbox and keeps its last error', () => {
    const c = change(planStatusChange(mailbox, row({ state: 'backoff', lastErrorCode: 'ECONNRESET' }), 'disable', null, null, at));
    expect(c).toMatchObject({ next: 'disabled', ownerId: null, errorMode: 'keep', event: { state: 'disabled', previous: 'backoff', reason: null } });
    expect(c.after.lastErrorCode).toBe('ECONNRESET');
  });

  it('nobody owns a pending or disabled mailbox, whoever reports it', () => {
    expect(change(planStatusChange(mailbox, row(), 'release', null, 'replica-a', at))).toMatchObject({ next: 'pending', ownerId: null });
    // Releasing a disabled mailbox changes nothing: no write, no version, no event.
    expect(planStatusChange(mailbox, row({ state: 'disabled', ownerId: null }), 'release', null, 'replica-a', at)).toEqual({ kind: 'unchanged', state: 'disabled' });
  });

  it('an event the state does not take is not applicable (a late report about a mailbox disabled meanwhile)', () => {
    const plan = planStatusChange(mailbox, row({ state: 'disabled', ownerId: null }), 'dropped', { code: 'ECONNRESET', message: 'reset' }, 'replica-a', at);
    expect(plan).toMatchObject({ kind: 'not_applicable', state: 'disabled' });
  });

  it('only the owner changing is a write without an event', () => {
    const c = change(planStatusChange(mailbox, row({ state: 'pending', ownerId: null }), 'release', { code: 'X', message: 'x' }, null, at));
    expect(c).toMatchObject({ next: 'pending', version: 5, event: null });
  });

  it('connecting clears the error and the failing run; a rejection starts it', () => {
    expect(change(planStatusChange(mailbox, row({ state: 'connecting', lastErrorCode: 'AUTH' }), 'listening', null, 'replica-a', at))).toMatchObject({
      errorMode: 'clear',
      authMode: 'clear',
      after: { lastErrorCode: null },
    });
    expect(change(planStatusChange(mailbox, row({ state: 'connecting' }), 'auth_rejected', { code: 'AUTH', message: 'no' }, 'replica-a', at))).toMatchObject({
      next: 'auth_error',
      authMode: 'start',
    });
  });

  it('a mailbox without a row yet is pending at version 0: its first change is version 1', () => {
    const none: StatusSnapshot = { state: 'pending', version: 0, lastErrorCode: null, ownerId: null, exists: false };
    expect(change(planStatusChange(mailbox, none, 'start', null, 'replica-a', at))).toMatchObject({ next: 'connecting', version: 1, from: none });
  });
});
