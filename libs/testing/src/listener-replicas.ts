import { AppProcess, ENTRY_POINTS, startAppProcess, waitForHttpOk } from './app-process';
import { freePort } from './free-port';
import { appProcessEnv } from './test-config';
import { AppConfig } from '@app/config';

export interface ListenerReplica {
  id: string;
  port: number;
  app: AppProcess;
}

/**
 * Named listener processes (the built dist/, one LISTENER_ID each) joining a test's world: started,
 * SIGKILLed, SIGTERMed (drained), paused and resumed (SIGSTOP/SIGCONT), and their /metrics read.
 */
export class ListenerReplicas {
  private readonly replicas = new Map<string, ListenerReplica>();

  constructor(
    private readonly config: AppConfig,
    private readonly env: NodeJS.ProcessEnv = {},
  ) {}

  /** Starts `id` and resolves once its /health/ready answers (its first lease round succeeded). */
  async start(id: string, env: NodeJS.ProcessEnv = {}): Promise<ListenerReplica> {
    const port = await freePort();
    const app = startAppProcess(ENTRY_POINTS.listener, { ...appProcessEnv(this.config, port), LISTENER_ID: id, ...this.env, ...env });
    const replica = { id, port, app };
    this.replicas.set(id, replica);
    await waitForHttpOk(`http://127.0.0.1:${port}/health/ready`, app);
    return replica;
  }

  get(id: string): ListenerReplica {
    const replica = this.replicas.get(id);
    if (!replica) throw new Error(`no listener replica ${id}`);
    return replica;
  }

  /** SIGKILL: no shutdown hook runs, nothing is released or handed over. Resolves with the exit code. */
  async kill(id: string): Promise<number> {
    const { app } = this.get(id);
    app.child.kill('SIGKILL');
    return app.exited;
  }

  /** SIGTERM: the replica drains and exits. Resolves with the exit code. */
  async terminate(id: string): Promise<number> {
    return this.get(id).app.stop('SIGTERM');
  }

  pause(id: string): void {
    this.get(id).app.child.kill('SIGSTOP');
  }

  resume(id: string): void {
    this.get(id).app.child.kill('SIGCONT');
  }

  /** One counter or gauge of the replica's /metrics, summed over the label sets that have `labels`; 0 when absent. */
  async metric(id: string, name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.get(id).port}/metrics`)).text();
    let total = 0;
    for (const line of text.split('\n')) {
      const match = /^([A-Za-z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      if (Object.entries(labels).every(([label, value]) => (match[2] ?? '').split(',').includes(`${label}="${value}"`))) total += Number(match[3]);
    }
    return total;
  }

  /** Stops every replica still running (SIGCONT first for a paused one), SIGKILL: for afterAll. */
  async killAll(): Promise<void> {
    await Promise.all(
      [...this.replicas.values()].map(async ({ app }) => {
        app.child.kill('SIGCONT');
        await app.stop('SIGKILL');
      }),
    );
  }
}
