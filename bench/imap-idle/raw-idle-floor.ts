import { connect, type Socket } from 'node:net';

/**
 * The mail server's own floor: how long the same N logins take with a client that costs next to nothing
 * (one pipelined write per session — LOGIN, EXAMINE INBOX, IDLE — no database, no queue, no parser).
 * On a small machine the server's work per login (Dovecot forks an imap process for each) is most of
 * the cold-start time; this says how much of the listener's figure is the listener's.
 */
export async function rawIdleFloor(port: number, users: { username: string; password: string }[], concurrency = 100): Promise<{ seconds: number; sessions: number }> {
  const sockets: Socket[] = [];
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < users.length) {
      const user = users[next++];
      sockets.push(await idleSession(port, user.username, user.password));
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { seconds: (Date.now() - started) / 1000, sessions: sockets.length };
  } finally {
    for (const socket of sockets) socket.destroy();
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
