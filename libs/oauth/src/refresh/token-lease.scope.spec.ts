import { leaseOfTokenWrite, runUnderLease, tokenWriteRefused } from './token-lease.scope';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('token lease scope', () => {
  it('names the lease only inside its refresh, and only for that mailbox', async () => {
    expect(leaseOfTokenWrite('m1')).toBeUndefined();
    const { value } = await runUnderLease({ mailboxId: 'm1', owner: 'a', epoch: 3 }, async () => {
      await tick();
      return [leaseOfTokenWrite('m1'), leaseOfTokenWrite('m2'), leaseOfTokenWrite(null)];
    });
    expect(value).toEqual([{ mailboxId: 'm1', owner: 'a', epoch: 3 }, undefined, undefined]);
    expect(leaseOfTokenWrite('m1')).toBeUndefined();
  });

  it('keeps concurrent refreshes apart: a refusal in one is not seen by the other', async () => {
    const refused = runUnderLease({ mailboxId: 'm1', owner: 'a', epoch: 1 }, async () => {
      await tick();
      tokenWriteRefused();
      return leaseOfTokenWrite('m1')?.epoch;
    });
    const kept = runUnderLease({ mailboxId: 'm2', owner: 'a', epoch: 2 }, async () => {
      await tick();
      await tick();
      return leaseOfTokenWrite('m2')?.epoch;
    });
    expect(await refused).toEqual({ value: 1, refused: true });
    expect(await kept).toEqual({ value: 2, refused: false });
    // Outside any refresh a refusal goes nowhere.
    expect(() => tokenWriteRefused()).not.toThrow();
  });
});
