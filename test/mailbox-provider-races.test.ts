import { queryDatabase, RunningApi, TestDatabase, useApiSuite } from '@app/testing';

/**
 * Mailbox creation racing changes to its provider, many rounds against the real API and Postgres. Each
 * round starts both requests together so their statements interleave in the database; whatever the
 * interleaving, the rule "password mailboxes only on basic-auth providers" must hold and no request may
 * answer a 500.
 */
describe('mailbox creation racing provider changes (real app, real Postgres)', () => {
  const suite = useApiSuite();
  let db: TestDatabase;
  let api: RunningApi;
  const ROUNDS = 30;

  beforeAll(() => {
    ({ db, api } = suite);
  });

  /** Starts `request` after `ms` milliseconds, so rounds try both orders and the windows in between. */
  const after = <T>(ms: number, request: () => PromiseLike<T>): Promise<T> => new Promise((resolve, reject) => setTimeout(() => request().then(resolve, reject), ms));
  /**
   * Round r holds back one side a little, mostly the provider change (the mailbox POST does more work
   * before it reaches the database): the rounds then cover both orders and the window in between.
   */
  const stagger = (round: number): [number, number] => (round % 3 === 2 ? [0, round % 2] : [round % 8, 0]);

  const createProvider = async (round: number, prefix: string): Promise<string> =>
    (
      await api.http
        .post('/v1/providers')
        .set(api.auth)
        .send({ name: `${prefix} ${round}`, type: 'imap', host: 'imap.race.test', domains: [`${prefix}${round}.race.test`] })
        .expect(201)
    ).body.id;

  it('PATCH authMethod basic → oauth2 racing POST of a password mailbox: never both, never a 500', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const providerId = await createProvider(round, 'skew');
      const [first, second] = stagger(round);
      const [patch, post] = await Promise.all([
        after(first, () => api.http.patch(`/v1/providers/${providerId}`).set(api.auth).send({ authMethod: 'oauth2', oauth: { clientId: 'race-client' } })),
        after(second, () => api.http.post('/v1/mailboxes').set(api.auth).send({ email: `user@skew${round}.race.test`, providerId, password: 'pw-race' })),
      ]);
      expect([patch.status, post.status]).not.toContain(500);
      // Exactly one wins: the mailbox first (the PATCH is refused while it exists) or the PATCH first
      // (the password is refused because the provider now uses OAuth).
      if (patch.status === 200) expect(post.body).toMatchObject({ statusCode: 400, message: expect.stringMatching(/^password: not accepted because provider .* uses OAuth 2\.0/) });
      else expect([patch.status, post.status, patch.body.message]).toEqual([409, 201, expect.stringMatching(/^authMethod: cannot change from basic to oauth2 while 1 mailbox/)]);
    }
    const broken = await queryDatabase(
      db.url,
      `SELECT m.email FROM mailboxes m JOIN providers p ON p.id = m.provider_id JOIN mailbox_credentials c ON c.mailbox_id = m.id WHERE p.auth_method = 'oauth2'`,
    );
    expect(broken).toEqual([]);
  });

  it('DELETE of the provider racing POST of a mailbox on it: a clear 4xx naming the provider, never a 500', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const providerId = await createProvider(round, 'gone');
      const [first, second] = stagger(round);
      const [remove, post] = await Promise.all([
        after(first, () => api.http.delete(`/v1/providers/${providerId}`).set(api.auth)),
        after(second, () => api.http.post('/v1/mailboxes').set(api.auth).send({ email: `user@gone${round}.race.test`, providerId, password: 'pw-race' })),
      ]);
      expect([remove.status, post.status]).not.toContain(500);
      if (remove.status === 204) {
        // The provider went first: the mailbox is refused naming it (deleted before or while it was created).
        expect([400, 409]).toContain(post.status);
        expect(post.body.message).toMatch(new RegExp(`^providerId: (no provider with id ${providerId}|provider ${providerId} was deleted)`));
      } else {
        expect([remove.status, post.status]).toEqual([409, 201]);
      }
    }
    const orphans = await queryDatabase(db.url, `SELECT m.email FROM mailboxes m LEFT JOIN providers p ON p.id = m.provider_id WHERE p.id IS NULL`);
    expect(orphans).toEqual([]);
  });

  it('two providers created at once with the same domain: one 201, one 409 naming domains and the domain', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const domain = `twice${round}.race.test`;
      const [first, second] = stagger(round);
      const answers = await Promise.all([
        after(first, () => api.http.post('/v1/providers').set(api.auth).send({ name: `Twice A ${round}`, type: 'imap', host: 'imap.race.test', domains: [domain, `a${round}.race.test`] })),
        after(second, () => api.http.post('/v1/providers').set(api.auth).send({ name: `Twice B ${round}`, type: 'imap', host: 'imap.race.test', domains: [`b${round}.race.test`, domain] })),
      ]);
      expect(answers.map((res) => res.status).sort()).toEqual([201, 409]);
      const winner = answers.find((res) => res.status === 201)!;
      const loser = answers.find((res) => res.status === 409)!;
      expect(loser.body).toEqual({ statusCode: 409, error: 'Conflict', message: `domains: ${domain} is already served by provider "${winner.body.name}" (${winner.body.id})` });
    }
    const names = await queryDatabase<{ name: string }>(db.url, `SELECT name FROM providers WHERE name LIKE 'Twice %'`);
    expect(names).toHaveLength(ROUNDS);
  });

  it('a provider PATCHed to take a domain while another is created with it: one wins, the other a 409 naming the domain', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const domain = `claim${round}.race.test`;
      const existing = await createProvider(round, 'claimant');
      const [first, second] = stagger(round);
      const [patch, post] = await Promise.all([
        after(first, () => api.http.patch(`/v1/providers/${existing}`).set(api.auth).send({ domains: [`claimant${round}.race.test`, domain] })),
        after(second, () => api.http.post('/v1/providers').set(api.auth).send({ name: `Claim ${round}`, type: 'imap', host: 'imap.race.test', domains: [domain] })),
      ]);
      expect([[200, 409], [409, 201]]).toContainEqual([patch.status, post.status]);
      const loser = patch.status === 409 ? patch : post;
      expect(loser.body.message).toMatch(new RegExp(`^domains: ${domain.replace(/\./g, '\\.')} is already served by provider "`));
    }
  });

  it('two mailboxes created at once with the same address: one 201, one 409 naming email', async () => {
    const providerId = await createProvider(0, 'same');
    for (let round = 0; round < ROUNDS; round += 1) {
      const email = `twin${round}@same0.race.test`;
      const [first, second] = stagger(round);
      const answers = await Promise.all([
        after(first, () => api.http.post('/v1/mailboxes').set(api.auth).send({ email, providerId, password: 'pw-1' })),
        after(second, () => api.http.post('/v1/mailboxes').set(api.auth).send({ email, providerId, password: 'pw-2' })),
      ]);
      expect(answers.map((res) => res.status).sort()).toEqual([201, 409]);
      expect(answers.find((res) => res.status === 409)!.body.message).toMatch(new RegExp(`^email: a mailbox for ${email.replace(/\./g, '\\.')} already exists`));
    }
  });
});
