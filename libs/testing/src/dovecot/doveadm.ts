import { execFile } from 'node:child_process';

/** Runs `doveadm -c <config> …` against one private instance; rejects with stderr in the message. */
export function runDoveadm(binary: string, configFile: string, args: string[], timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['-c', configFile, ...args], { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`doveadm ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
        return;
      }
      resolve(stdout);
    });
  });
}

export interface DovecotConnection {
  username: string;
  service: string;
  pid: number;
  ip: string;
}

/** Parses `doveadm -f tab who -1`: a header line, then `username  service  pid  ip` per connection. */
export function parseWho(output: string): DovecotConnection[] {
  const [header, ...rows] = output.split('\n').filter((line) => line.trim() !== '');
  if (!header) return [];
  const columns = header.split('\t').map((name) => name.trim());
  const at = (name: string): number => columns.indexOf(name);
  return rows.map((row) => {
    const cells = row.split('\t');
    const cell = (name: string): string => (at(name) >= 0 ? (cells[at(name)] ?? '').trim() : '');
    return {
      username: cell('username'),
      service: cell('service') || cell('proto'),
      pid: Number(cell('pid').replace(/[()]/g, '')),
      ip: cell('ip').replace(/[()]/g, ''),
    };
  });
}
