// Who used the CPU during a phase: the service, the database server, the load generator, the
// receiver, the bare programs. From /proc, so a child's figure is its own, not its parent's.
import { readdirSync, readFileSync } from 'node:fs';
import { cpuSecondsOf } from './service';

/** The pid of the local MariaDB/MySQL server, if it runs on this machine. */
export function findDatabaseServerPid(): number | null {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
        if (comm === 'mariadbd' || comm === 'mysqld') return Number(entry);
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // no /proc
  }
  return null;
}

export type CpuProbe = Record<string, number>;

/** CPU seconds so far of each named process (this process by 'self'). */
export function probeCpu(pids: Record<string, number | null | undefined>): CpuProbe {
  const probe: CpuProbe = {};
  for (const [name, pid] of Object.entries(pids)) {
    if (pid === null || pid === undefined) continue;
    if (pid === process.pid) {
      const u = process.cpuUsage();
      probe[name] = (u.user + u.system) / 1e6;
    } else {
      probe[name] = cpuSecondsOf(pid);
    }
  }
  return probe;
}

/** CPU microseconds per unit of work of each process between two probes. */
export function cpuPerUnit(before: CpuProbe, after: CpuProbe, units: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(after)) {
    if (before[name] === undefined) continue;
    out[name] = units > 0 ? ((after[name] as number) - (before[name] as number)) * 1e6 / units : Number.NaN;
  }
  return out;
}
