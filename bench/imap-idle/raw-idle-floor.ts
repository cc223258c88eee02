import { connect, type Socket } from 'node:net';

export interface RawUser {
  username: string;
  password: string;
}

/**
 * The mail server's own floor: how long the same N logins take with a client that costs next to nothing
 * (one pipelined write per session — LOGIN, EXAMINE INBOX, IDLE — no database, no queue, no parser).
 * On a small machine the server's work per login (Dovecot forks an imap process for each) is most of
 * the cold-start time; this says how much of the listener's figure is the listener's.
 */
export async function rawIdleFloor(port: number, users: RawUser[], concurrency = 100): Promise<{ seconds: number; sessions: number }> {
  const { sockets, seconds } = await openIdleSessions(port, users, concurrency);
  for (const socket of sockets) socket.destroy();
  return { seconds, sessions: sockets.length };
}

/**
 * N minimal IDLE sessions, `concurrency` logins in flight, started at most `perSecond` a second when given;
 * the caller owns (and destroys) the sockets, in the users' order.
 */
export async function openIdleSessions(port: number, users: RawUser[], concurrency = 100, perSecond?: number): Promise<{ sockets: Socket[]; seconds: number }> {
  const sockets: Socket[] = [];
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < users.length) {
      const i = next++;
      const due = perSecond ? started + (i * 1000) / perSecond : 0;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      sockets[i] = await idleSession(port, users[i].username, users[i].password);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { sockets, seconds: (Date.now() - started) / 1000 };
  } catch (error) {
    for (const socket of sockets) socket?.destroy();
    throw error;
  }
}

function idleSession(port: number, username: string, password: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let sent = false;
    socket.setEncoding('latin1');
    socket.setTimeout(30_000, () => socket.destroy(new Error(`${username}: no IDLE within 30 s`)));
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (!sent && received.includes('* OK')) {
        sent = true;
        socket.write(`a LOGIN "${username}" "${password}"\r\nb EXAMINE INBOX\r\nc IDLE\r\n`);
      }
      if (/^[ab] (NO|BAD)/m.test(received)) socket.destroy(new Error(`${username}: ${received.trim().split('\r\n').pop()}`));
      if (received.includes('\r\n+ ')) {
        socket.setTimeout(0);
        socket.removeAllListeners('data');
        resolve(socket);
      }
    });
  });
}
