import { imapMessageRef } from '@app/events';
import { MailboxSupervisor } from '@app/sync';
import { buildMessage, ListenerWorld } from '@app/testing';

/** The listener against a real Dovecot: every new message becomes one `mail.received`, through drops and changes. */
describe('IMAP IDLE listener (real Dovecot, Postgres, Redis)', () => {
  const world = new ListenerWorld();
  let seq = 0;
  const email = () => `u${++seq}@contoso.com`;

  beforeAll(() => world.start(), 60_000);
  afterAll(() => world.stop());

  it('publishes a new message within a second, with the envelope, and reports the mailbox connected', async () => {
    const mailbox = await world.mailbox(email(), { externalId: 'crm-1' });
    await world.waitForState(mailbox.id, 'connected');
    const raw = buildMessage({ from: { name: 'Bo Li', address: 'bo@fabrikam.com' }, to: mailbox.email, subject: 'Quarterly numbers', messageId: '<q1@fabrikam.com>' });
    const sent = Date.now();
    const { uid, uidValidity } = await world.dovecot.deliver(mailbox.email, raw);
    const [job] = await world.waitForReceived(mailbox.id, 1, 5_000);
    const latency = Date.now() - sent;
    expect(latency).toBeLessThan(1_000);
    expect(job.id).toBe(job.data.id);
    expect(job.data).toEqual({
      id: expect.stringMatching(/^mail\.received\./),
      type: 'mail.received',
      version: 1,
      occurredAt: expect.any(String),
      mailbox: { id: mailbox.id, email: mailbox.email, externalId: 'crm-1' },
      message: {
        ref: imapMessageRef(mailbox.id, 'INBOX', uidValidity, uid),
        folder: 'INBOX',
        uid,
        uidValidity,
        providerMessageId: null,
        internetMessageId: '<q1@fabrikam.com>',
        subject: 'Quarterly numbers',
        from: { name: 'Bo Li', address: 'bo@fabrikam.com' },
        to: [{ name: null, address: mailbox.email }],
        cc: [],
        receivedAt: expect.any(String),
        size: Buffer.byteLength(raw),
      },
    });
    expect(job.id).not.toContain(':');
    const status = await world.status(mailbox.id);
    expect(status).toMatchObject({ connection: { state: 'connected', lastError: null }, owner: world.config.listener.id, recommendedAction: null });
    expect(status.sync.folders[0]).toMatchObject({ name: 'INBOX', uidValidity, lastUid: uid });
    expect(status.sync.lastEventAt).not.toBeNull();
    const events = await world.waitForEvents(mailbox.id, 'mailbox.state_changed', (jobs) => jobs.some((j) => j.data.state === 'connected'), 'the connected event');
    const states = events.map((j) => j.data.state);
    expect(states).toEqual(expect.arrayContaining(['connecting', 'connected']));
  });

  it('does not replay mail that was there before the subscription, unless asked to backfill', async () => {
    const fresh = email();
    await world.dovecot.addUser(fresh, `pw-${fresh}`);
    await world.dovecot.deliverMany(fresh, [buildMessage({ subject: 'old 1' }), buildMessage({ subject: 'old 2' })]);
    const { id } = (await world.api.http.post('/v1/mailboxes').set(world.api.auth).send({ email: fresh, password: `pw-${fresh}` }).expect(201)).body;
    await world.waitForState(id, 'connected');
    await world.dovecot.deliver(fresh, buildMessage({ subject: 'new' }));
    const jobs = await world.waitForReceived(id, 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await world.received(id)).map((job) => job.data.message.subject)).toEqual(['new']);
    expect(jobs).toHaveLength(1);

    const backfilled = email();
    await world.dovecot.addUser(backfilled, `pw-${backfilled}`);
    await world.dovecot.deliverMany(backfilled, [buildMessage({ subject: 'b1' }), buildMessage({ subject: 'b2' })]);
    const since = new Date(Date.now() - 24 * 3600_000).toISOString();
    const created = await world.api.http.post('/v1/mailboxes').set(world.api.auth).send({ email: backfilled, password: `pw-${backfilled}`, backfillSince: since }).expect(201);
    const replayed = await world.waitForReceived(created.body.id, 2);
    expect(replayed.map((job) => job.data.message.subject).sort()).toEqual(['b1', 'b2']);
  });

  it('a burst of 200 messages becomes 200 events, once each', async () => {
    const mailbox = await world.mailbox(email());
    await world.waitForState(mailbox.id, 'connected');
    const { uids } = await world.dovecot.deliverMany(mailbox.email, Array.from({ length: 200 }, (_, i) => buildMessage({ subject: `burst ${i}` })));
    const jobs = await world.waitForReceived(mailbox.id, 200, 20_000);
    // The cursor at the last UID: every fetch from now on starts past the burst, so nothing of it can come again.
    await world.waitFor(() => world.status(mailbox.id), (status) => status.sync.folders[0].lastUid === uids[uids.length - 1], 10_000, 'the cursor at the last UID');
    await world.watch.settle();
    const all = await world.received(mailbox.id);
    expect(all).toHaveLength(200);
    expect(new Set(all.map((job) => job.id)).size).toBe(200);
    expect(all.map((job) => job.data.message.uid).sort((a, b) => a - b)).toEqual(uids);
    expect(jobs.length).toBe(200);
    // Not re-published under the same ids either (the queue would have dropped those silently).
    expect(world.duplicatedMail(mailbox.id)).toEqual([]);
  });

  it('mail to 50 mailboxes at once reaches every one', async () => {
    const mailboxes = await Promise.all(Array.from({ length: 50 }, () => world.mailbox(email())));
    await Promise.all(mailboxes.map((m) => world.waitForState(m.id, 'connected', 30_000)));
    await Promise.all(mailboxes.map((m) => world.dovecot.deliver(m.email, buildMessage({ subject: `hello ${m.email}` }))));
    for (const m of mailboxes) {
      const [job] = await world.waitForReceived(m.id, 1, 10_000);
      expect(job.data.message.subject).toBe(`hello ${m.email}`);
    }
  });

  it('reconnects after Dovecot restarts and catches up on what arrived meanwhile', async () => {
    const mailbox = await world.mailbox(email());
    await world.waitForState(mailbox.id, 'connected');
    await world.dovecot.restart();
    // Delivered before the listener is back: found by the catch-up, not by IDLE.
    const { uids } = await world.dovecot.deliverMany(mailbox.email, [buildMessage({ subject: 'during 1' }), buildMessage({ subject: 'during 2' })]);
    const jobs = await world.waitForReceived(mailbox.id, 2, 20_000);
    expect(jobs.map((job) => job.data.message.uid).sort((a, b) => a - b)).toEqual(uids);
    await world.waitForState(mailbox.id, 'connected', 20_000);
    const metrics = await (await fetch(`${world.listener!.url}/metrics`)).text();
    expect(metrics).toMatch(/mail_listener_reconnects_total\{reason="network",app="listener"\} [1-9]/);
  });

  it('a changed UIDVALIDITY gives mailbox.resynced and a new baseline, not a flood of old mail', async () => {
    const mailbox = await world.mailbox(email());
    await world.dovecot.deliverMany(mailbox.email, Array.from({ length: 10 }, (_, i) => buildMessage({ subject: `existing ${i}` })));
    await world.waitForState(mailbox.id, 'connected');
    const before = (await world.status(mailbox.id)).sync.folders[0].uidValidity;
    const changed = await world.dovecot.changeUidValidity(mailbox.email);
    await world.dovecot.kickUser(mailbox.email);
    const resynced = await world.waitFor(
      async () => (await world.events.jobs()).filter((j) => j.name === 'mailbox.resynced' && j.data.mailbox.id === mailbox.id),
      (jobs) => jobs.length === 1,
      20_000,
      'mailbox.resynced',
    );
    expect(resynced[0].data).toMatchObject({ folder: 'INBOX', reason: 'uid_validity_changed', previousUidValidity: before, uidValidity: changed });
    await world.waitForState(mailbox.id, 'connected', 20_000);
    await world.dovecot.deliver(mailbox.email, buildMessage({ subject: 'after resync' }));
    const jobs = await world.waitForReceived(mailbox.id, 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await world.received(mailbox.id)).map((j) => j.data.message.subject)).toEqual(['after resync']);
    expect(jobs[0].data.message.uidValidity).toBe(changed);
  });

  it('a wrong password is auth_error with the reason, other mailboxes keep working', async () => {
    const good = await world.mailbox(email());
    const badEmail = email();
    await world.dovecot.addUser(badEmail, 'the-real-password');
    const bad = (await world.api.http.post('/v1/mailboxes').set(world.api.auth).send({ email: badEmail, password: 'a-wrong-password' }).expect(201)).body;
    const status = await world.waitForState(bad.id, 'auth_error');
    expect(status.connection.lastError).toMatchObject({ code: 'AUTHENTICATIONFAILED' });
    expect(status.recommendedAction).toMatch(/^Check the password/);
    await world.waitForState(good.id, 'connected');
    await world.dovecot.deliver(good.email, buildMessage({ subject: 'still fine' }));
    await world.waitForReceived(good.id, 1);

    // Fixing the password through the API reconnects at once.
    await world.api.http.patch(`/v1/mailboxes/${bad.id}`).set(world.api.auth).send({ password: 'the-real-password' }).expect(200);
    await world.waitForState(bad.id, 'connected');
    expect((await world.status(bad.id)).connection.lastError).toBeNull();
  });

  it('a resync request reconnects and catches up; several folders are followed', async () => {
    const address = email();
    await world.dovecot.addUser(address, `pw-${address}`);
    await world.dovecot.createFolder(address, 'Sales');
    const { id } = (await world.api.http.post('/v1/mailboxes').set(world.api.auth).send({ email: address, password: `pw-${address}`, folders: ['INBOX', 'Sales'] }).expect(201)).body;
    await world.waitForState(id, 'connected');
    await world.dovecot.deliver(address, buildMessage({ subject: 'to sales' }), { folder: 'Sales' });
    await world.dovecot.deliver(address, buildMessage({ subject: 'to inbox' }));
    const jobs = await world.waitForReceived(id, 2);
    expect(jobs.map((j) => `${j.data.message.folder}:${j.data.message.subject}`).sort()).toEqual(['INBOX:to inbox', 'Sales:to sales']);

    const res = await world.api.http.post(`/v1/mailboxes/${id}/resync`).set(world.api.auth).expect(202);
    expect(res.body).toEqual({ mailboxId: id, requestedAt: expect.any(String) });
    await world.waitFor(async () => (await world.events.jobs()).filter((j) => j.name === 'mailbox.state_changed' && j.data.mailbox.id === id && j.data.state === 'connecting').length, (n) => n >= 2, 10_000, 'reconnect');
    await world.waitForState(id, 'connected');
    expect(await world.received(id)).toHaveLength(2);
  });

  it('a mailbox deleted or disabled through the API has its session closed within seconds', async () => {
    const deleted = await world.mailbox(email());
    const disabled = await world.mailbox(email());
    await world.waitForState(deleted.id, 'connected');
    await world.waitForState(disabled.id, 'connected');
    expect(await world.dovecot.connectionsOf(deleted.email)).not.toHaveLength(0);
    await world.api.http.delete(`/v1/mailboxes/${deleted.id}`).set(world.api.auth).expect(204);
    await world.api.http.patch(`/v1/mailboxes/${disabled.id}`).set(world.api.auth).send({ enabled: false }).expect(200);
    const started = Date.now();
    await world.waitFor(() => world.dovecot.connectionsOf(deleted.email), (c) => c.length === 0, 5_000, 'session of the deleted mailbox closed');
    await world.waitFor(() => world.dovecot.connectionsOf(disabled.email), (c) => c.length === 0, 5_000, 'session of the disabled mailbox closed');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await world.status(disabled.id)).connection.state).toBe('disabled');
    expect(world.listener!.app.get(MailboxSupervisor).runner(deleted.id)).toBeUndefined();
  });

  // Last: it switches the suite's provider off and on again.
  it('a provider that stops loading mail: sessions close, its enabled mailboxes wait as pending saying why (not disabled), and resume when it loads again', async () => {
    const mailbox = await world.mailbox(email());
    await world.waitForState(mailbox.id, 'connected');
    // A provider must load or send: it sends while it does not load.
    const provider = (loads: boolean) => world.api.http.patch(`/v1/providers/${world.providerId}`).set(world.api.auth).send({ loadEmails: loads, sendEmails: !loads }).expect(200);
    await provider(false);
    try {
      await world.waitFor(() => world.dovecot.connectionsOf(mailbox.email), (c) => c.length === 0, 5_000, 'session closed once the provider stopped loading mail');
      const waiting = await world.waitForState(mailbox.id, 'pending', 5_000);
      expect(waiting.owner).toBeNull();
      expect(waiting.recommendedAction).toMatch(/^Nothing to do if the mailbox only sends: its provider "Dovecot" does not load mail, so no listener syncs it; to sync it, set loadEmails to true/);
    } finally {
      await provider(true);
    }
    // Written `disabled` (as before), the row would refuse the new runner's reports: connected, but never said so.
    await world.waitForState(mailbox.id, 'connected', 5_000);
    expect(await world.dovecot.connectionsOf(mailbox.email)).toHaveLength(1);
  });
});
