import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  /** PEM private key of the server certificate. */
  key: string;
  /** PEM self-signed certificate; also the trust anchor clients need (its own CA). */
  cert: string;
}

/**
 * A self-signed certificate for 127.0.0.1 / ::1 / localhost. It is marked CA:TRUE so that the same PEM
 * works as a trust anchor for Node (undici `connect.ca`), OpenSSL clients (curl --cacert, Dovecot
 * `tls_ca_cert_file`) and as the server certificate.
 */
export async function generateLoopbackCertificate(commonName = '127.0.0.1'): Promise<TlsMaterial> {
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 24 * 3600 * 1000),
    notAfterDate: new Date(Date.now() + 5 * 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface ListeningServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1:0 and serves HTTPS and plain HTTP on the same port: the first byte of a
 * connection decides (0x16 = TLS handshake record). HTTPS is what msal-node insists on; plain HTTP is
 * handy for clients that cannot be told about a CA (e.g. a quick Dovecot introspection config).
 * When `tls` is omitted, only plain HTTP is served.
 */
export type DeferredHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * Listens first (the port is needed to build the server's URLs), then serves through the instance built
 * from it: 503 until `attach` is called; a handler that throws answers 500 with an OAuth-style body.
 */
export async function listenForInstance(errorCode: string, tls?: TlsMaterial): Promise<{ server: ListeningServer; attach(handler: DeferredHandler): void }> {
  let instance: DeferredHandler | undefined;
  const server = await listenLoopback((req, res) => {
    if (!instance) {
      res.statusCode = 503;
      res.end();
      return;
    }
    instance(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.statusCode = 500;
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ error: errorCode, error_description: String(error) }));
    });
  }, tls);
  return { server, attach: (created) => (instance = created) };
}

export async function listenLoopback(handler: RequestHandler, tls?: TlsMaterial): Promise<ListeningServer> {
  const plain = createHttpServer(handler);
  const secure = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, handler) : undefined;
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      (secure && chunk[0] === 0x16 ? secure : plain).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
