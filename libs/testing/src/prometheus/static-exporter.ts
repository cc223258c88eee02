import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * A /metrics endpoint serving fixed text, standing in for an exporter the service does not run itself
 * (kube-state-metrics: the listener Deployment's replica count the alert rules compare with).
 */
export class StaticExporter {
  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    /** `host:port`, as a Prometheus target. */
    readonly target: string,
    private text: string,
  ) {}

  static async start(text: string): Promise<StaticExporter> {
    let exporter: StaticExporter | undefined;
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(exporter!.text);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    exporter = new StaticExporter(server, `127.0.0.1:${(server.address() as AddressInfo).port}`, text);
    return exporter;
  }

  serve(text: string): void {
    this.text = text;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
