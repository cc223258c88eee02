import { createWriteStream } from 'node:fs';
import { imapMessageRef } from '@app/events';
import {
  FAILURE_KINDS,
  FailureKind,
  fuzzReport,
  fuzzSeed,
  FuzzPlan,
  FuzzRun,
  OpenApiDocument,
  OperationSetup,
  operationsOf,
  planFuzz,
  Prng,
  runFuzz,
  RunningApi,
  TEST_API_KEY,
  useApiSuite,
} from '@app/testing';

/** Fixed, so every run sends the same requests; FUZZ_SEED=<n> replays or explores another run. */
const SEED = fuzzSeed(20_261_121);
/**
 * Letters and digits only: JSON, URL and HTML encodings all leave it as is, so no echo can hide it. The
 * seed in base 36 (at most 7 characters) keeps letters in every 8-character piece the echo check looks for.
 */
const SECRET = `FuzzSecret${SEED.toString(36)}Q7xZ`;

/** A well-formed message ref whose mailbox tag is no fixture's. */
const FOREIGN_REF = imapMessageRef('00000000-0000-4000-8000-00000000f022', 'INBOX', 1700000000, 1);

/** The rows the `:id` operations work on; each operation that changes its row has its own. */
interface Fixtures {
  /** IMAP, password authentication: OAuth routes answer 409 before any identity provider is contacted. */
  sharedProvider: string;
  readMailbox: string;
  patchProvider: string;
  deleteProvider: string;
  patchMailbox: string;
  deleteMailbox: string;
  readWebhook: string;
  patchWebhook: string;
  deleteWebhook: string;
}

/** Webhook URLs must resolve at registration: a loopback address (allowed outside production), nothing listens there. */
const WEBHOOK_URL = 'http://127.0.0.1:9/hooks/mail';

async function createFixtures(api: RunningApi): Promise<Fixtures> {
  const provider = async (body: object) => (await api.http.post('/v1/providers').set(api.auth).send(body).expect(201)).body.id as string;
  const imap = (name: string, domain: string) => provider({ name, type: 'imap', host: 'imap.fuzz.example', authMethod: 'basic', domains: [domain] });
  const mailbox = async (email: string) => (await api.http.post('/v1/mailboxes').set(api.auth).send({ email, password: SECRET, folders: ['INBOX'] }).expect(201)).body.id as string;
  const webhook = async () => (await api.http.post('/v1/webhooks').set(api.auth).send({ url: WEBHOOK_URL, events: ['*'] }).expect(201)).body.id as string;
  const sharedProvider = await imap('Fuzz shared', 'fuzz-shared.example');
  return {
    sharedProvider,
    readMailbox: await mailbox('read@fuzz-shared.example'),
    patchProvider: await provider({
      name: 'Fuzz patched',
      type: 'microsoft-graph',
      oauth: { clientId: 'fuzz-client', clientSecret: SECRET, tenant: 'organizations' },
      domains: ['fuzz-patch.example'],
    }),
    deleteProvider: await imap('Fuzz deleted', 'fuzz-delete.example'),
    patchMailbox: await mailbox('patch@fuzz-shared.example'),
    deleteMailbox: await mailbox('delete@fuzz-shared.example'),
    readWebhook: await webhook(),
    patchWebhook: await webhook(),
    deleteWebhook: await webhook(),
  };
}

/**
 * What a valid request of each operation is, on which row, and what it gets. Bodies are functions: each
 * request gets fresh unique values (an email, a domain), so a create that passes does not turn the next
 * one into a 409.
 */
function setupsFor(f: Fixtures): Record<string, OperationSetup> {
  let n = 0;
  const prng = new Prng(SEED);
  const oauth = () => ({
    clientId: 'fuzz-client',
    clientSecret: SECRET,
    tenant: 'organizations',
    authorityHost: 'https://login.microsoftonline.com',
    scopes: ['offline_access', 'https://graph.microsoft.com/Mail.Read'],
    issuer: 'microsoft',
    appOnly: false,
  });
  const notification = () => ({
    value: [
      {
        subscriptionId: prng.uuid(),
        subscriptionExpirationDateTime: '2030-01-01T00:00:00.000Z',
        changeType: 'created',
        resource: 'Users/fuzz/Messages/AAMkfuzz',
        resourceData: { '@odata.type': '#Microsoft.Graph.Message', id: 'AAMkfuzz' },
        clientState: SECRET,
        tenantId: '00000000-0000-4000-8000-000000000001',
      },
    ],
  });
  const graphReceiver: OperationSetup = {
    body: notification,
    baselineStatus: [202],
    lenient: {
      reason: "Graph's payload: unknown fields are ignored, bad items are dropped one by one (Graph redelivers a refused batch for hours), any Content-Type is read as JSON",
      fieldsUnder: 'value[0]',
      unknownKeys: true,
      mediaTypes: true,
    },
  };
  const list = { query: { limit: '10', offset: '0' }, baselineStatus: [200] };
  return {
    'POST /v1/providers': {
      body: () => ({
        name: `Fuzz provider ${++n}`,
        type: 'microsoft-graph',
        host: 'outlook.office365.com',
        port: 993,
        secure: true,
        verifyCertificate: true,
        loadEmails: true,
        sendEmails: false,
        loginFormat: 'email',
        authMethod: 'oauth2',
        graphBaseUrl: 'https://graph.microsoft.com/v1.0',
        domains: [`p${n}.fuzz-create.example`],
        oauth: oauth(),
      }),
      baselineStatus: [201],
    },
    'GET /v1/providers': list,
    'GET /v1/providers/resolve': { query: { email: 'someone@fuzz-shared.example' }, baselineStatus: [200] },
    'GET /v1/providers/{id}': { pathParams: { id: f.sharedProvider }, baselineStatus: [200] },
    'PATCH /v1/providers/{id}': {
      pathParams: { id: f.patchProvider },
      body: () => ({ name: `Fuzz patched ${++n}`, loadEmails: true, sendEmails: false, graphBaseUrl: 'https://graph.microsoft.com/v1.0', domains: ['fuzz-patch.example'], oauth: oauth() }),
      baselineStatus: [200],
    },
    'DELETE /v1/providers/{id}': { pathParams: { id: f.deleteProvider }, baselineStatus: [204] },
    'POST /v1/providers/{id}/oauth/app-token': { pathParams: { id: f.sharedProvider }, baselineStatus: [409] },
    'POST /v1/mailboxes': {
      body: () => ({
        email: `m${++n}@fuzz-shared.example`,
        providerId: f.sharedProvider,
        password: SECRET,
        folders: ['INBOX', 'Archive'],
        externalId: `crm-${n}`,
        enabled: true,
        backfillSince: '2026-01-01T00:00:00Z',
      }),
      baselineStatus: [201],
    },
    'GET /v1/mailboxes': { query: { limit: '10', offset: '0', providerId: f.sharedProvider, email: 'read@fuzz-shared.example', externalId: 'crm-1', enabled: 'true' }, baselineStatus: [200] },
    'GET /v1/mailboxes/{id}': { pathParams: { id: f.readMailbox }, baselineStatus: [200] },
    'PATCH /v1/mailboxes/{id}': {
      pathParams: { id: f.patchMailbox },
      body: () => ({ password: SECRET, folders: ['INBOX', 'Archive'], externalId: `crm-patched-${++n}`, enabled: true }),
      baselineStatus: [200],
    },
    'DELETE /v1/mailboxes/{id}': { pathParams: { id: f.deleteMailbox }, baselineStatus: [204] },
    'GET /v1/mailboxes/{id}/status': { pathParams: { id: f.readMailbox }, baselineStatus: [200] },
    'POST /v1/mailboxes/{id}/resync': { pathParams: { id: f.readMailbox }, baselineStatus: [202] },
    // Password mailbox: 409 before any identity provider is contacted (none is reachable here).
    'POST /v1/mailboxes/{id}/oauth/device-code': { pathParams: { id: f.readMailbox }, baselineStatus: [409] },
    'GET /v1/mailboxes/{id}/oauth/authorize': { pathParams: { id: f.readMailbox }, baselineStatus: [409] },
    'PUT /v1/mailboxes/{id}/token': {
      pathParams: { id: f.readMailbox },
      body: () => ({ refreshToken: SECRET, accessToken: SECRET, expiresAt: '2030-01-01T00:00:00Z' }),
      baselineStatus: [409],
    },
    'DELETE /v1/mailboxes/{id}/token': { pathParams: { id: f.readMailbox }, baselineStatus: [409] },
    // A ref of another mailbox: 404 before any mail server is contacted (none is reachable here, which would be a 502).
    'GET /v1/mailboxes/{id}/messages/{ref}': { pathParams: { id: f.readMailbox, ref: FOREIGN_REF }, baselineStatus: [404] },
    'GET /v1/mailboxes/{id}/messages/{ref}/raw': { pathParams: { id: f.readMailbox, ref: FOREIGN_REF }, baselineStatus: [404] },
    'GET /v1/mailboxes/{id}/messages/{ref}/attachments/{attachmentId}': { pathParams: { id: f.readMailbox, ref: FOREIGN_REF, attachmentId: '2' }, baselineStatus: [404] },
    // The shared provider does not send: 409 after the body passed validation (nothing is stored or queued).
    'POST /v1/mailboxes/{id}/outbox': {
      pathParams: { id: f.readMailbox },
      body: () => ({
        to: ['Ben <ben@fuzz-shared.example>'],
        cc: [{ name: 'Carla', address: 'carla@fuzz-shared.example' }],
        bcc: ['dan@fuzz-shared.example'],
        replyTo: ['ana@fuzz-shared.example'],
        subject: `fuzz ${++n}`,
        text: 'hello',
        html: '<p>hello</p>',
        inReplyTo: '<a@fuzz-shared.example>',
        references: ['<a@fuzz-shared.example>'],
        headers: { 'X-Fuzz': 'yes' },
        attachments: [{ filename: 'a.txt', contentType: 'text/plain', content: 'aGVsbG8=' }],
      }),
      baselineStatus: [409],
    },
    'GET /v1/mailboxes/{id}/outbox/{sendId}': { pathParams: { id: f.readMailbox, sendId: '00000000-0000-4000-8000-000000000000' }, baselineStatus: [404] },
    'GET /v1/cluster': { baselineStatus: [200] },
    'POST /v1/graph/notifications': graphReceiver,
    'POST /v1/graph/lifecycle': graphReceiver,
    'POST /v1/webhooks': { body: () => ({ url: WEBHOOK_URL, events: ['mail.received', 'mailbox.state_changed'], description: `fuzz ${++n}`, enabled: true }), baselineStatus: [201] },
    'GET /v1/webhooks': list,
    'GET /v1/webhooks/{id}': { pathParams: { id: f.readWebhook }, baselineStatus: [200] },
    'PATCH /v1/webhooks/{id}': {
      pathParams: { id: f.patchWebhook },
      body: () => ({ url: WEBHOOK_URL, events: ['*'], description: `fuzz patched ${++n}`, enabled: true }),
      baselineStatus: [200],
    },
    'DELETE /v1/webhooks/{id}': { pathParams: { id: f.deleteWebhook }, baselineStatus: [204] },
    'POST /v1/webhooks/{id}/rotate-secret': { pathParams: { id: f.patchWebhook }, baselineStatus: [200] },
    'POST /v1/webhooks/{id}/test': { pathParams: { id: f.readWebhook }, baselineStatus: [202] },
    'GET /v1/webhooks/{id}/deliveries': { pathParams: { id: f.readWebhook }, query: { limit: '10' }, baselineStatus: [200] },
    'POST /v1/webhooks/{id}/deliveries/{eventId}/retry': { pathParams: { id: f.readWebhook, eventId: 'mail.received.none' }, baselineStatus: [404] },
  };
}

/**
 * Requests generated from the running API's own OpenAPI document, sent to the real API on real Postgres
 * and Redis with a valid key and real rows: every body field of every operation mutated (wrong types,
 * null, NUL characters, lone surrogates, empty, beyond its max length, out-of-range and huge numbers,
 * nesting 3,000 deep, arrays for objects), unknown and prototype keys, whole bodies replaced, broken
 * encodings and foreign content types, path and query variants. Every failure is collected and reported
 * at once, grouped, with the seed to replay the run.
 */
describe('API fuzz: OpenAPI-generated requests against the real API, Postgres and Redis', () => {
  const suite = useApiSuite();
  let doc: OpenApiDocument;
  let setups: Record<string, OperationSetup>;
  let plan: FuzzPlan;
  let run: FuzzRun;

  beforeAll(async () => {
    const api = suite.api;
    doc = (await api.http.get('/docs/openapi.json').expect(200)).body;
    setups = setupsFor(await createFixtures(api));
    plan = planFuzz(doc, setups, { seed: SEED, secret: SECRET, secretNames: ['clientState'], apiKey: TEST_API_KEY, combinations: 40 });
    // FUZZ_LOG=<file>: every request and answer as JSON lines, to see what a mutation got.
    const log = process.env.FUZZ_LOG ? createWriteStream(process.env.FUZZ_LOG) : undefined;
    run = await runFuzz(api.url, plan.lanes, {
      concurrency: 6,
      timeoutMs: 10_000,
      secret: SECRET,
      baselineStatus: (operation) => setups[operation]?.baselineStatus,
      onAnswer: log && ((fuzzCase, answer) => log.write(`${JSON.stringify({ operation: fuzzCase.operation, mutation: fuzzCase.mutation, status: answer.status, answer: answer.text.slice(0, 300) })}\n`)),
    });
    await new Promise((resolve) => (log ? log.end(resolve) : resolve(undefined)));
  }, 400_000);

  it('covers every operation of the document with a few thousand requests', () => {
    const documented = operationsOf(doc).map((operation) => operation.key);
    // A new operation needs its valid request and rows here, or its mutations only ever meet a 404.
    expect(documented.filter((key) => !setups[key])).toEqual([]);
    expect(plan.lanes).toHaveLength(documented.length);
    expect(plan.size).toBeGreaterThan(2_000);
    expect(plan.size).toBeLessThan(6_000);
    // Every request answered or judged (a stalled API shows as `no answer` failures, below); how fast is
    // not asserted: ~40 s on a quiet machine, past 120 s in a CI sim at load average 10.
    expect(run.requests).toBe(plan.size);
  });

  it.each(Object.keys(FAILURE_KINDS) as FailureKind[])('no request fails with: %s', (kind) => {
    const report = fuzzReport(
      run.failures.filter((failure) => failure.kind === kind),
      SEED,
      `${kind} (${FAILURE_KINDS[kind]})`,
    );
    if (report) throw new Error(report);
  });
});
