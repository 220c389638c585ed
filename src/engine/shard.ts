// Splitting a kernel task into shards by value range, and the inverse. A shard carries
// copies of its slices, so its buffers can be transferred to a worker without touching
// the caller's arrays; a broadcast exponent (stride 0), the join's right-hand tile and an
// EC task's key and alpha go whole to every shard.
import { opOf, taskStrides } from './ops.js';
import type { KernelTask } from './tasks.js';

/** Values [start, end) of `task` as a task of its own. */
export function sliceTask(task: KernelTask, start: number, end: number): KernelTask {
  const { inWords } = taskStrides(task);
  const count = end - start;
  const cut = (data: Uint32Array, words: number) => data.slice(start * words, end * words);
  const shard = { ...task, count, input: cut(task.input, inWords) } as KernelTask;
  if ('rand' in shard && shard.rand !== undefined) shard.rand = cut(shard.rand, shard.randWords);
  if ('input2' in shard) shard.input2 = cut(shard.input2, inWords);
  if ('exp' in shard && shard.expStride > 0) shard.exp = cut(shard.exp, shard.expStride);
  // whole copies: transferred, so no copy of a secret x or alpha stays on the calling thread
  for (const [name, value] of broadcastBuffers(task))
    (shard as unknown as Record<string, unknown>)[name] = value.slice();
  if ('ecKey' in shard) shard.first += start;
  return shard;
}

/**
 * The buffers every shard of `task` carries whole: a broadcast exponent (stride 0), the
 * join's right-hand tables (every shard pairs its rows with all of them), an EC task's
 * key and alpha.
 */
export function broadcastBuffers(task: KernelTask): [string, Uint32Array][] {
  const list: [string, Uint32Array][] = [];
  if ('exp' in task && task.expStride === 0) list.push(['exp', task.exp]);
  if ('tile' in task) list.push(['tile', task.tile]);
  if ('ecKey' in task) list.push(['ecKey', task.ecKey]);
  if ('alpha' in task) list.push(['alpha', task.alpha]);
  return list;
}

/** The buffers a shard owns outright (all of them are fresh copies). */
export function transferList(task: KernelTask): ArrayBuffer[] {
  const list = [task.input.buffer as ArrayBuffer];
  if ('rand' in task && task.rand !== undefined) list.push(task.rand.buffer as ArrayBuffer);
  if ('input2' in task) list.push(task.input2.buffer as ArrayBuffer);
  if ('exp' in task) list.push(task.exp.buffer as ArrayBuffer);
  if ('tile' in task) list.push(task.tile.buffer as ArrayBuffer);
  if ('ecKey' in task) list.push(task.ecKey.buffer as ArrayBuffer);
  if ('alpha' in task) list.push(task.alpha.buffer as ArrayBuffer);
  return list;
}

/**
 * The task needs a key only server B holds: a Paillier private-key op (the key carries p
 * and q), or B's EC decryption (its ecKey is x). Such a task never leaves B's hosts with
 * its secret: on the queue B's own workers put their key in (src/queue).
 */
export function needsPrivateKey(task: KernelTask): boolean {
  return ('key' in task && task.key.p !== undefined) || task.op === 'ecDecrypt';
}

/**
 * The buffers of a task that hold secrets (r, r', alpha, a secret exponent, B's x, an
 * owner's keyed tag hashes): a worker zeroes its copies once the shard is done.
 */
export function secretBuffers(task: KernelTask): Uint32Array[] {
  const list: Uint32Array[] = [];
  if ('rand' in task && task.rand !== undefined) list.push(task.rand);
  if ('alpha' in task) list.push(task.alpha);
  if (task.op === 'ecDecrypt') list.push(task.ecKey);
  if (task.op === 'randomFactor') list.push(task.input);
  // the owners' keyed hashes: they link rows across tables
  if (task.op === 'ecEncryptTags') list.push(task.input);
  if (task.op === 'multiply' || task.op === 'modPow') {
    if (task.secret) list.push(task.exp);
  }
  return list;
}

/** The fewest values of `task` whose kernel cost reaches `minCost` (ops.ts's unit), at least 1. */
export function minShardValues(task: KernelTask, minCost: number): number {
  return Math.max(1, Math.ceil(minCost / opOf(task).cost(task)));
}

/**
 * Shard boundaries for `count` values over `workers` workers: about `perWorker` shards
 * per worker so uneven shard times even out, but no shard smaller than `minValues`
 * (cheap operations amortise the message cost over more values).
 */
export function shardBounds(count: number, workers: number, minValues: number, perWorker = 4): number[] {
  const shards = Math.max(1, Math.min(Math.ceil(count / minValues), workers * perWorker));
  const bounds = [0];
  for (let s = 1; s <= shards; s++) bounds.push(Math.round((s * count) / shards));
  return bounds;
}
