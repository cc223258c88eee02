import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request a receiver got, as it arrived. */
export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  contentType: string | undefined;
  body: string;
  receivedAt: number;
  /** How the receiver answered it. */
  answer?: WebhookAnswer;
}

/** How the receiver answers one request: a status, a redirect, no answer at all, or a dropped connection. */
export type WebhookAnswer = { status: number; location?: string; headers?: Record<string, string>; delayMs?: number } | { hang: true } | { closeConnection: true };

/**
 * A CRM's webhook endpoint on a free loopback port: records every request and answers as the test says
 * (default 200). `verify` checks a request with the `standardwebhooks` package, an implementation of the
 * Standard Webhooks spec independent of ours.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private answer: (request: ReceivedWebhook, n: number) => WebhookAnswer = () => ({ status: 200 });
  private readonly waiters = new Set<() => void>();
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(path = '/hooks/mail'): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined;
    const server = createServer((request, response) => receiver!.handle(request, response));
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new WebhookReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);
    server.on('connection', (socket) => {
      receiver!.sockets.add(socket);
      socket.once('close', () => receiver!.sockets.delete(socket));
    });
    return receiver;
  }

  /** Answers request number n (0-based, counted over all requests) with what `answer` says. */
  answerWith(answer: (request: ReceivedWebhook, n: number) => WebhookAnswer): void {
    this.answer = answer;
  }

  /** Ids of the webhooks answered with a 2xx (delivered). */
  deliveredIds(): Set<string> {
    return new Set(this.received.filter((r) => r.answer && 'status' in r.answer && r.answer.status >= 200 && r.answer.status < 300).map((r) => r.id));
  }

  /** The requests for one webhook id (a delivery's attempts). */
  of(id: string): ReceivedWebhook[] {
    return this.received.filter((request) => request.id === id);
  }

  /** Throws unless the request verifies with `secret` (standardwebhooks). Answers the parsed body. */
  static verify(request: ReceivedWebhook, secret: string): Record<string, any> {
    return new Webhook(secret).verify(request.body, { 'webhook-id': request.id, 'webhook-timestamp': request.timestamp, 'webhook-signature': request.signature }) as Record<string, any>;
  }

  /** Resolves once `done(received)` holds, checked on every request. */
  until(done: (received: ReceivedWebhook[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    if (done(this.received)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done(this.received)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received ${this.received.length}: ${this.received.slice(-5).map((r) => r.id).join(', ')}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const got: ReceivedWebhook = {
        id: String(request.headers['webhook-id'] ?? ''),
        timestamp: String(request.headers['webhook-timestamp'] ?? ''),
        signature: String(request.headers['webhook-signature'] ?? ''),
        contentType: request.headers['content-type'],
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      };
      const n = this.received.length;
      this.received.push(got);
      for (const wake of this.waiters) wake();
      const answer = this.answer(got, n);
      got.answer = answer;
      if ('hang' in answer) return;
      if ('closeConnection' in answer) {
        request.socket.destroy();
        return;
      }
      const send = () => {
        if (answer.location) response.setHeader('location', answer.location);
        for (const [name, value] of Object.entries(answer.headers ?? {})) response.setHeader(name, value);
        response.statusCode = answer.status;
        response.end();
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  }
}
