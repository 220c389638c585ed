// Streaming batches with bounded memory: values are read from any (async) iterable in
// chunks, at most `inFlight` chunks are being computed at once, and results come out in
// input order. Memory is O(chunkSize x inFlight) whatever the stream's length.
import { AbortedError } from '../errors.js';

export interface StreamOptions {
  /** Values per engine call (default 256). */
  chunkSize?: number;
  /** Chunks computed concurrently (default: 2 per worker, at least 2). */
  inFlight?: number;
  signal?: AbortSignal;
  /** Called after each chunk with values done so far and the expected total, if known. */
  onProgress?: (done: number, total: number | undefined) => void;
  /** Expected number of values, only for progress reports. */
  total?: number;
}

export async function* mapInChunks<T, R>(
  source: Iterable<T> | AsyncIterable<T>,
  fn: (chunk: T[], signal?: AbortSignal) => Promise<R[]>,
  options: StreamOptions & { chunkSize: number; inFlight: number },
): AsyncGenerator<R> {
  const { signal, onProgress, total } = options;
  const pending: Promise<R[]>[] = [];
  let done = 0;
  const submit = (chunk: T[]) => {
    const p = fn(chunk, signal);
    p.catch(() => {}); // observed when its turn comes; avoids an unhandled rejection meanwhile
    pending.push(p);
  };
  const check = () => {
    if (signal?.aborted) throw new AbortedError();
  };
  let chunk: T[] = [];
  for await (const value of source) {
    check();
    chunk.push(value);
    if (chunk.length < options.chunkSize) continue;
    submit(chunk);
    chunk = [];
    while (pending.length >= options.inFlight) {
      const results = await pending.shift()!;
      done += results.length;
      onProgress?.(done, total);
      yield* results;
      check();
    }
  }
  if (chunk.length > 0) submit(chunk);
  while (pending.length > 0) {
    const results = await pending.shift()!;
    done += results.length;
    onProgress?.(done, total);
    yield* results;
  }
}
