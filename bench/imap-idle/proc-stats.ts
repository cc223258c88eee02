import { readdirSync, readFileSync } from 'node:fs';

/** Resident memory of a process, from /proc (bytes); 0 once it has exited (samplers outlive it). */
export function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Resident memory of a process in MiB (see rssBytes). */
export function rssMb(pid: number): number {
  return rssBytes(pid) / 1024 / 1024;
}

/** CPU seconds (user + system) a process has used so far; NaN once it has exited. */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of /proc/pid/stat (11 and 12 after the command name), in ticks of 1/100 s.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** user + system of the process itself and of its children it has reaped, in seconds. */
  cpuWithReaped: number;
}

function procStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      // After the command name: state, ppid, … utime (11), stime (12), cutime (13), cstime (14), in 1/100 s.
      const cpu = (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
      stats.push({ pid: Number(entry), ppid: Number(fields[1]), comm, cpuWithReaped: cpu });
    } catch {
      // Gone between the listing and the read.
    }
  }
  return stats;
}

/**
 * CPU seconds so far of whole process trees (a server that forks a process per session: Dovecot, Postgres),
 * those already exited included once their parent reaped them. Roots: processes named `comm` whose parent
 * is not. Compare two readings; a tree's exited-and-unreaped processes are missed (a parent reaps at once).
 */
export function treeCpuSeconds(comm: string | RegExp): number {
  const stats = procStats();
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const named = (s: ProcStat | undefined) => s !== undefined && (typeof comm === 'string' ? s.comm === comm : comm.test(s.comm));
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  let total = 0;
  const walk = (s: ProcStat) => {
    total += s.cpuWithReaped;
    for (const child of children.get(s.pid) ?? []) walk(child);
  };
  for (const root of stats.filter((s) => named(s) && !named(byPid.get(s.ppid)))) walk(root);
  return total;
}

/** Busy CPU seconds of the whole machine so far, all cores (user, nice, system, irq, softirq, steal). */
export function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]) / 100;
}
