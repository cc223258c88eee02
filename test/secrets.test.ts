import { DataSource } from 'typeorm';
import { keyId, KeyRing, SecretBox } from '@app/crypto';
import { dataSourceOptions, reencryptSecrets, runMigrations, secretContext } from '@app/persistence';
import {
  createTestDatabase,
  ENTRY_POINTS,
  queryDatabase,
  randomEncryptionKey,
  startApi,
  startAppProcess,
  TestDatabase,
  testConfig,
} from '@app/testing';

const CLIENT_SECRET = 'client-secret-value-for-rotation';
const PASSWORD = 'mailbox-password-for-rotation';

describe('secrets at rest and key rotation (real Postgres)', () => {
  let db: TestDatabase;
  const keyA = randomEncryptionKey();
  const keyB = randomEncryptionKey();
  const idOf = (key: string) => keyId(Buffer.from(key, 'base64'));
  let providerId: string;
  let mailboxId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const api = await startApi(testConfig(db.url, { ENCRYPTION_KEY: keyA }));
    try {
      const provider = await api.http
        .post('/v1/providers')
        .set(api.auth)
        .send({ name: 'P', type: 'imap', host: 'imap.rot.test', authMethod: 'oauth2', oauth: { clientId: 'c', clientSecret: CLIENT_SECRET }, domains: ['rot.test'] })
        .expect(201);
      providerId = provider.body.id;
      const basic = await api.http.post('/v1/providers').set(api.auth).send({ name: 'B', type: 'imap', host: 'imap.rot2.test', domains: ['rot2.test'] }).expect(201);
      const mailbox = await api.http.post('/v1/mailboxes').set(api.auth).send({ email: 'a@rot2.test', providerId: basic.body.id, password: PASSWORD }).expect(201);
      mailboxId = mailbox.body.id;
    } finally {
      await api.close();
    }
  });

  afterAll(async () => {
    await db?.drop();
  });

  async function rawSecrets(): Promise<{ clientSecret: string; password: string }> {
    const [provider] = await queryDatabase<{ s: string }>(db.url, 'SELECT oauth_client_secret_encrypted AS s FROM providers WHERE id = $1', [providerId]);
    const [credential] = await queryDatabase<{ s: string }>(db.url, 'SELECT password_encrypted AS s FROM mailbox_credentials WHERE mailbox_id = $1', [mailboxId]);
    return { clientSecret: provider.s, password: credential.s };
  }

  it('stores ciphertext sealed with the current key, bound to its row', async () => {
    const raw = await rawSecrets();
    expect(raw.clientSecret).not.toContain(CLIENT_SECRET);
    expect(raw.password).not.toContain(PASSWORD);
    expect(raw.clientSecret.split('.')[1]).toBe(idOf(keyA));
    const box = new SecretBox(KeyRing.fromBase64(keyA));
    expect(box.decrypt(raw.clientSecret, secretContext.providerClientSecret(providerId))).toBe(CLIENT_SECRET);
    expect(box.decrypt(raw.password, secretContext.mailboxPassword(mailboxId))).toBe(PASSWORD);
    expect(() => box.decrypt(raw.password, secretContext.mailboxPassword(providerId))).toThrow();
  });

  it('rotates: new writes use the new key while the old key still decrypts; re-encryption lets the old key go', async () => {
    const api = await startApi(testConfig(db.url, { ENCRYPTION_KEY: keyB, ENCRYPTION_OLD_KEYS: keyA }));
    try {
      await api.http.patch(`/v1/providers/${providerId}`).set(api.auth).send({ name: 'renamed' }).expect(200);
      const other = await api.http.post('/v1/providers').set(api.auth).send({ name: 'C', type: 'imap', host: 'h.test', authMethod: 'oauth2', oauth: { clientId: 'x', clientSecret: 'fresh' } }).expect(201);
      const [fresh] = await queryDatabase<{ s: string }>(db.url, 'SELECT oauth_client_secret_encrypted AS s FROM providers WHERE id = $1', [other.body.id]);
      expect(fresh.s.split('.')[1]).toBe(idOf(keyB));
    } finally {
      await api.close();
    }
    // Untouched secrets are still sealed with A: with B alone they would be lost.
    const before = await rawSecrets();
    expect(before.password.split('.')[1]).toBe(idOf(keyA));
    expect(() => new SecretBox(KeyRing.fromBase64(keyB)).decrypt(before.password, secretContext.mailboxPassword(mailboxId))).toThrow(/neither ENCRYPTION_KEY/);

    // The operator's command: `npm run secrets:reencrypt` with B current and A old.
    const cli = startAppProcess(ENTRY_POINTS.reencrypt, { DATABASE_URL: db.url, ENCRYPTION_KEY: keyB, ENCRYPTION_OLD_KEYS: keyA, NODE_ENV: 'test' });
    expect(await cli.exited).toBe(0);
    expect(cli.output()).toMatch(/Examined 3 secrets, re-encrypted 2 with the current key/);

    const after = await rawSecrets();
    const onlyB = new SecretBox(KeyRing.fromBase64(keyB));
    expect(onlyB.decrypt(after.clientSecret, secretContext.providerClientSecret(providerId))).toBe(CLIENT_SECRET);
    expect(onlyB.decrypt(after.password, secretContext.mailboxPassword(mailboxId))).toBe(PASSWORD);
  });

  it('a run with nothing to do changes nothing', async () => {
    const dataSource = await new DataSource(dataSourceOptions(db.url, 1)).initialize();
    try {
      await runMigrations(dataSource);
      const report = await reencryptSecrets(dataSource, new SecretBox(KeyRing.fromBase64(keyB)));
      expect(report).toEqual({ examined: 3, reencrypted: 0 });
    } finally {
      await dataSource.destroy();
    }
  });
});
