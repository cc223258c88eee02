import { TokenWriteFence } from './token-write-fence';

describe('TokenWriteFence', () => {
  const lease = { mailboxId: 'm1', owner: 'a', epoch: 3 };

  it("fences only its own mailbox's token: not a provider's app-only token, not another mailbox's", () => {
    const fence = new TokenWriteFence(lease);
    expect(fence.leaseFor('m1')).toEqual(lease);
    expect(fence.leaseFor('m2')).toBeUndefined();
    expect(fence.leaseFor(null)).toBeUndefined();
  });

  it('starts unrefused and stays refused once a write was refused', () => {
    const fence = new TokenWriteFence(lease);
    expect(fence.refused).toBe(false);
    fence.refuse();
    fence.refuse();
    expect(fence.refused).toBe(true);
    expect(fence.leaseFor('m1')).toEqual(lease);
  });

  it("keeps two refreshes apart: one's refusal is not the other's", () => {
    const refused = new TokenWriteFence(lease);
    const kept = new TokenWriteFence({ mailboxId: 'm1', owner: 'a', epoch: 4 });
    refused.refuse();
    expect([refused.refused, kept.refused]).toEqual([true, false]);
    expect(kept.leaseFor('m1')?.epoch).toBe(4);
  });
});
