/**
 * Token refresh over a simulated day (accelerated clock) against the fake Entra ID.
 *
 *   npm run bench:token-refresh -- [--mailboxes=10000] [--hours=24] [--concurrency=8]
 *
 * Seeds N mailboxes of one Microsoft provider with imported refresh tokens, all issued at the same
 * simulated instant (the worst case: a fleet imported at once), access tokens living 60–90 minutes as
 * Entra's default. Then advances the shared clock one simulated second at a time and lets the real
 * TokenRefreshScheduler (msal-node, Redis locks, Postgres) do its passes. Prints how many tokens were ever
 * expired while their mailbox was active (from the identity provider's own record of issued tokens:
 * must be 0), the closest any token came to expiring, and the peak refreshes per simulated second.
 * Needs Postgres (DATABASE_URL) and Redis (REDIS_URL), like the tests.
 */
import { DataSource } from 'typeorm';
import { TokenImportService, TokenRefreshScheduler } from '@app/oauth';
import { OAuthWorld, PUBLIC_CLIENT_ID } from '@app/testing';
import { numberArg } from '../args';

async function inParallel<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}

async function main(): Promise<void> {
  const mailboxes = numberArg('mailboxes', 10_000);
  const hours = numberArg('hours', 24);
  const concurrency = numberArg('concurrency', 8);
  const world = new OAuthWorld();
  await world.start({ listener: true, env: { OAUTH_REFRESH_CONCURRENCY: String(concurrency), LOG_LEVEL: 'silent' } });
  try {
    world.entra.setAccessTokenLifetime(3600, 5400);
    const provider = await world.createMicrosoftProvider({ name: 'Bench', domains: ['bench.test'] });
    const emails = Array.from({ length: mailboxes }, (_, i) => `u${i}@bench.test`);
    for (const email of emails) world.entra.addUser({ username: email });
    // Mailbox rows in bulk (set-up, not what is measured); tokens go through the real import path.
    const ids: { id: string; email: string }[] = await world.api.app.get(DataSource).query(
      `INSERT INTO mailboxes (email, provider_id, login, enabled)
       SELECT 'u' || g || '@bench.test', $1, 'u' || g || '@bench.test', true FROM generate_series(0, $2 - 1) g RETURNING id, email`,
      [provider.id, mailboxes],
    );

    const imports = world.api.app.get(TokenImportService);
    const seedStart = Date.now();
    await inParallel(ids, 16, async ({ id, email }) => {
      await imports.import(id, world.entra.mintRefreshToken(PUBLIC_CLIENT_ID, email));
    });
    const seedSeconds = (Date.now() - seedStart) / 1000;
    console.log(`seeded ${mailboxes} mailboxes with imported tokens in ${seedSeconds.toFixed(1)} s (all issued at simulated t=0)`);

    const scheduler = world.listener!.app.get(TokenRefreshScheduler);
    const start = world.clock.now();
    const end = start + hours * 3600_000;
    const perSecond: number[] = [];
    const failures: Record<string, number> = {};
    const simStart = Date.now();
    let refreshes = 0;
    while (world.clock.now() < end) {
      world.clock.advance(1000);
      const outcomes = await scheduler.runOnce();
      const ok = outcomes.filter((o) => o === 'success').length;
      for (const o of outcomes) if (o !== 'success' && o !== 'skipped') failures[o] = (failures[o] ?? 0) + 1;
      perSecond.push(ok);
      refreshes += ok;
      const elapsed = world.clock.now() - start;
      if (elapsed % 3600_000 === 0) {
        console.log(`  simulated hour ${elapsed / 3600_000}: ${refreshes} refreshes so far, ${((Date.now() - simStart) / 1000).toFixed(0)} s real`);
      }
    }
    const realSeconds = (Date.now() - simStart) / 1000;

    // Ground truth: the identity provider's record of every access token it issued.
    const byUser = new Map<string, { issuedAt: number; expiresAt: number }[]>();
    for (const token of world.entra.issuedAccessTokens) {
      if (!token.username) continue;
      const list = byUser.get(token.username) ?? [];
      list.push({ issuedAt: token.issuedAt, expiresAt: token.expiresAt });
      byUser.set(token.username, list);
    }
    let everExpired = 0;
    let closestMarginMs = Infinity;
    for (const email of emails) {
      const list = (byUser.get(email) ?? []).sort((a, b) => a.issuedAt - b.issuedAt);
      let expired = list.length === 0;
      for (let i = 1; i < list.length; i++) {
        const margin = list[i - 1].expiresAt - list[i].issuedAt;
        closestMarginMs = Math.min(closestMarginMs, margin);
        if (margin < 0) expired = true;
      }
      if (list.length && list[list.length - 1].expiresAt < end) expired = true;
      if (expired) everExpired += 1;
    }
    const peak = Math.max(...perSecond);
    const busySeconds = perSecond.filter((n) => n > 0).length;
    const rss = process.memoryUsage().rss / 2 ** 20;

    console.log('');
    console.log(`mailboxes:                          ${mailboxes}`);
    console.log(`simulated time:                     ${hours} h (access tokens 60–90 min, refresh when < max(10 min, 20 %) remains, 50 % jitter)`);
    console.log(`refreshes:                          ${refreshes} (${(refreshes / mailboxes).toFixed(1)} per mailbox)`);
    console.log(`failed refreshes:                   ${JSON.stringify(failures)}`);
    console.log(`tokens ever expired while active:   ${everExpired}`);
    console.log(`closest a token came to expiring:   ${(closestMarginMs / 60_000).toFixed(1)} min before expiry`);
    console.log(`peak refreshes per simulated second: ${peak}`);
    console.log(`mean refreshes per busy second:     ${(refreshes / Math.max(1, busySeconds)).toFixed(2)} (${busySeconds} of ${perSecond.length} seconds had any)`);
    console.log(`real time for the simulated day:    ${realSeconds.toFixed(0)} s (${(refreshes / realSeconds).toFixed(0)} refreshes per real second, concurrency ${concurrency})`);
    console.log(`process RSS at the end:             ${rss.toFixed(0)} MiB (fake Entra ID, API and listener in one process)`);
    if (everExpired > 0) process.exitCode = 1;
  } finally {
    await world.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
