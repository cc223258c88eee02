import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeEntraId, FakeGraph } from '@app/testing';

/** The daemon app the end-to-end phase reads mail with (client credentials, Mail.Read application role). */
export const BENCH_DAEMON_APP_ID = '66666666-aaaa-4bbb-8ccc-000000000001';
export const BENCH_DAEMON_SECRET = 'bench-daemon-secret~do-not-log';

/**
 * Fake Entra ID and fake Microsoft Graph for the end-to-end phase, in the bench process. They start before
 * the apps: the API and the listener need the fake's CA file (OAUTH_CA_FILE) from their start.
 */
export interface BenchGraphFakes {
  entra: FakeEntraId;
  graph: FakeGraph;
  caFile: string;
  stop(): Promise<void>;
}

export async function startGraphFakes(): Promise<BenchGraphFakes> {
  const entra = await FakeEntraId.start();
  entra.registerApp({ clientId: BENCH_DAEMON_APP_ID, clientSecret: BENCH_DAEMON_SECRET, appRoles: ['Mail.Read'], displayName: 'Bench mail daemon' });
  const graph = await FakeGraph.start({ entra });
  const caFile = join(mkdtempSync(join(tmpdir(), 'ml-bench-entra-')), 'ca.pem');
  writeFileSync(caFile, entra.caPem);
  return {
    entra,
    graph,
    caFile,
    async stop() {
      await graph.stop();
      await entra.stop();
    },
  };
}
