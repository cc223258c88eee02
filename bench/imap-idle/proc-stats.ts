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
    return readProcStat(String(pid)).cpu;
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
  /** user + system of the process itself, in seconds. */
  cpu: number;
  /** `cpu` plus that of the children it has reaped. */
  cpuWithReaped: number;
}

/** One process's /proc/<pid>/stat; throws once it has gone. */
function readProcStat(pid: string): ProcStat {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: the fields start after its last ')'.
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  // After the command name: state, ppid, … utime (11), stime (12), cutime (13), cstime (14), in ticks of 1/100 s.
  const cpu = (Number(fields[11]) + Number(fields[12])) / 100;
  return { pid: Number(pid), ppid: Number(fields[1]), comm: text.slice(text.indexOf('(') + 1, close), cpu, cpuWithReaped: cpu + (Number(fields[13]) + Number(fields[14])) / 100 };
}

function procStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      stats.push(readProcStat(entry));
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
export function treeCpuSeconds(comm: string): number {
  const stats = procStats();
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) {
    const siblings = children.get(s.ppid);
    if (siblings) siblings.push(s);
    else children.set(s.ppid, [s]);
  }
  let total = 0;
  const walk = (s: ProcStat) => {
    total += s.cpuWithReaped;
    for (const child of children.get(s.pid) ?? []) walk(child);
  };
  for (const root of stats.filter((s) => s.comm === comm && byPid.get(s.ppid)?.comm !== comm)) walk(root);
  return total;
}

/** Busy CPU seconds of the whole machine so far, all cores (user, nice, system, irq, softirq, steal). */
export function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]) / 100;
}

/** The machine's busy CPU so far, and the servers' (Dovecot's, Postgres's, Redis's process trees): see cpuSince. */
export interface MachineCpu {
  busy: number;
  dovecot: number;
  postgres: number;
  redis: number;
}

export function machineCpu(): MachineCpu {
  return { busy: machineBusySeconds(), dovecot: treeCpuSeconds('dovecot'), postgres: treeCpuSeconds('postgres'), redis: treeCpuSeconds('redis-server') };
}

/** CPU seconds spent since `from`, whole and by server: which of them a phase's wall time went to. */
export function cpuSince(from: MachineCpu): MachineCpu {
  const to = machineCpu();
  return { busy: to.busy - from.busy, dovecot: to.dovecot - from.dovecot, postgres: to.postgres - from.postgres, redis: to.redis - from.redis };
}
