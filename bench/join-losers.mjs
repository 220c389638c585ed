import { loadKernels } from '../dist/src/engine/wasm.js';
import { Arena } from '../dist/src/engine/memory.js';
import { KeyContexts } from '../dist/src/engine/key-context.js';
import { randomBelow, modPowBig } from '../dist/src/engine/modular.js';
import { toWords, readWords, wordsFor } from '../dist/src/engine/limbs.js';
import { generateKeys, publicMaterial } from '../dist/src/engine/keys.js';
import { loadavg } from 'node:os';
const K = await loadKernels();
const e = K.exports;
const arena = new Arena(e.memory, e.heapBase());
const cx = new KeyContexts(K, arena);
const { publicKey } = await generateKeys(2048);
const key = publicMaterial(publicKey);
const pk = cx.publicKey(key);
const n2 = key.n * key.n, W = wordsFor(n2), RW = wordsFor(key.n);
const rows = 2, cols = 2, pairs = 4;
const left = [0, 1].map(() => randomBelow(n2 - 2n) + 2n), right = [0, 1].map(() => randomBelow(n2 - 2n) + 2n);
const rho = Array.from({ length: 4 }, () => randomBelow(key.n - 1n) + 1n);
const want = left.flatMap((a, i) => right.map((b, j) => modPowBig((a * b) % n2, rho[i * cols + j], n2)));
const put = (vals, w) => { const p = arena.alloc(vals.length * w * 4); vals.forEach((v, i) => arena.write(p + i * w * 4, toWords(v, w))); return p; };
const inL = put(left, W), inR = put(right, W), rp = put(rho, RW), out = arena.alloc(pairs * W * 4);
const S = e.joinTableBytes(pk, 1, 1) / 4;
const check = (what) => { const w = arena.read(out, pairs * W); want.forEach((x, i) => { if (readWords(w, i * W, W) !== x) throw new Error(what + ' wrong ' + i); }); };
const cpu = (f) => { const t = process.cpuUsage(); f(); const d = process.cpuUsage(t); return (d.user + d.system) / 1000; };
const labels = [], fns = [];
// comb 5x3 (kept)
{ const tb = e.joinTableBytes(pk, 5, 3); const tL = arena.alloc(rows * tb), tR = arena.alloc(cols * tb); const wk = arena.alloc(e.joinWorkBytes(pk, 5, 3));
  e.joinTablesBatch(pk, inL, tL, rows, 5, 3, RW); e.joinTablesBatch(pk, inR, tR, cols, 5, 3, RW);
  const f = () => e.joinPairsBatch(pk, tL, tR, rp, out, rows, cols, 5, 3, RW, wk); f(); check('comb');
  labels.push('comb 5x3 (kept), 9 KB/row'); fns.push(f); }
for (const [h, v] of [[6, 2], [6, 4], [8, 1]]) {
  const tb = e.joinTableBytes(pk, h, v); const bL = arena.alloc(rows * tb), bR = arena.alloc(cols * tb);
  e.joinTablesBatch(pk, inL, bL, rows, h, v, RW); e.joinTablesBatch(pk, inR, bR, cols, h, v, RW);
  const fb = v * (1 << h) * S * 4; const fL = arena.alloc(rows * fb), fR = arena.alloc(cols * fb); const wk = arena.alloc(3 * S * 4 + 16);
  e.joinFullTables(pk, bL, fL, rows, h, v); e.joinFullTables(pk, bR, fR, cols, h, v);
  const f = () => e.joinPairsSeparate(pk, fL, fR, rp, out, rows, cols, h, v, RW, wk); f(); check('separate');
  labels.push(`separate tables ${h}x${v}, ${Math.round(fb / 1024)} KB/row`); fns.push(f);
}
for (const c of [5, 6, 7]) {
  const teeth = Math.ceil(2048 / c); const tb = e.joinTableBytes(pk, teeth, 1);
  const pL = arena.alloc(rows * tb), pR = arena.alloc(cols * tb); const wk = arena.alloc(((1 << c) + 4) * S * 4);
  e.joinTablesUnchecked(pk, inL, pL, rows, teeth, 1, RW); e.joinTablesUnchecked(pk, inR, pR, cols, teeth, 1, RW);
  const f = () => e.joinPairsBucket(pk, pL, pR, rp, out, rows, cols, c, RW, wk); f(); check('bucket');
  labels.push(`buckets c=${c}, ${Math.round(tb / 1024)} KB/row`); fns.push(f);
}
console.log('load', loadavg().map((x) => x.toFixed(2)).join(' '));
const t = fns.map(() => []);
for (let r = 0; r < 7; r++) fns.forEach((f, i) => t[i].push(cpu(f)));
const med = t.map((x) => x.sort((p, q) => p - q)[3] / pairs);
labels.forEach((l, i) => console.log(l.padEnd(40), med[i].toFixed(2), 'ms/pair', (med[i] / med[0]).toFixed(2) + 'x the comb'));
console.log('load', loadavg().map((x) => x.toFixed(2)).join(' '));
