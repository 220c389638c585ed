// The machine a result came from (STYLE G6): Node and V8, CPU model and cores, memory,
// and the git commit, with `dirty` when the tree had uncommitted changes.
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, hostname, loadavg, totalmem } from 'node:os';

export interface Environment {
  host: string;
  node: string;
  v8: string;
  platform: string;
  arch: string;
  cpuModel: string;
  cores: number;
  availableParallelism: number;
  memoryGiB: number;
  /** 1-minute load average when the run started: above the core count, others competed for the CPU */
  loadAverage: number;
  git: { commit: string; dirty: boolean } | null;
}

/** The 1-minute load average now, to 2 decimals. */
export function loadAverage(): number {
  return Math.round(loadavg()[0] * 100) / 100;
}

function git(args: string[]): string {
  return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

export function environment(): Environment {
  const cpu = cpus();
  let gitInfo: Environment['git'] = null;
  try {
    gitInfo = { commit: git(['rev-parse', 'HEAD']), dirty: git(['status', '--porcelain']) !== '' };
  } catch {
    // not a git checkout (an installed package): no commit to record
  }
  return {
    host: hostname(),
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    availableParallelism: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: loadAverage(),
    git: gitInfo,
  };
}

export function describeEnvironment(env: Environment): string {
  const commit = env.git ? `${env.git.commit.slice(0, 12)}${env.git.dirty ? ' (dirty)' : ''}` : 'no git';
  return `Node ${env.node} (V8 ${env.v8}), ${env.cpuModel}, ${env.cores} cores, ${env.platform}/${env.arch}, commit ${commit}, load average ${env.loadAverage}`;
}

/** A warning when other processes were using the CPU as the run started, else undefined. */
export function busyWarning(env: Environment): string | undefined {
  if (env.loadAverage <= env.cores / 2) return undefined;
  return `warning: load average ${env.loadAverage} on ${env.cores} cores at the start: other processes compete for the CPU, so times are noisy and ratios less certain`;
}
