/**
 * Where a process spent its CPU: a V8 CPU profile (`node --cpu-prof`) summed by self time per package
 * (`node_modules/<name>`), per file of ours, or per Node internal / garbage collector / idle.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; hitCount?: number }[];
  startTime: number;
  endTime: number;
}

export interface CpuShare {
  where: string;
  percent: number;
}

function bucket(url: string, functionName: string): string {
  if (functionName === '(idle)' || functionName === '(program)' || functionName === '(garbage collector)')
    return functionName;
  if (!url) return `(native) ${functionName || 'anonymous'}`;
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith('node:')) return url;
  const ours = /\/((?:functions|bin|bench)\/.+)$/.exec(url);
  return ours ? ours[1]! : url;
}

export function summarizeCpuProfiles(dir: string, top = 15): { busyPercent: number; shares: CpuShare[] } {
  const totals = new Map<string, number>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    for (const node of profile.nodes) {
      const key = bucket(node.callFrame.url, node.callFrame.functionName);
      totals.set(key, (totals.get(key) ?? 0) + (node.hitCount ?? 0));
    }
  }
  const all = [...totals.values()].reduce((a, b) => a + b, 0) || 1;
  const idle = totals.get('(idle)') ?? 0;
  const busy = all - idle;
  const shares = [...totals]
    .filter(([k]) => k !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([where, hits]) => ({ where, percent: Math.round((hits / (busy || 1)) * 1000) / 10 }));
  return { busyPercent: Math.round((busy / all) * 1000) / 10, shares };
}
