// An independent plaintext solver for the convergence tests: the same objective as fedjoin's
// (mean log-loss + l2/2 ||w||^2, bias unpenalised) minimised by Nesterov's accelerated gradient
// descent with a fixed step 1/L and gradient restarts (O'Donoghue & Candes 2015), sharing no
// code with src/fl/newton.ts (no Hessian, no line search), to a gradient max-norm of 1e-10.

export interface PlainSolution {
  weights: number[];
  bias: number;
  gradientNorm: number;
}

function gradient(theta: number[], rows: number[][], labels: number[], l2: number): number[] {
  const d = theta.length - 1;
  const g = new Array<number>(d + 1).fill(0);
  for (let i = 0; i < rows.length; i++) {
    let z = theta[d];
    for (let k = 0; k < d; k++) z += theta[k] * rows[i][k];
    const r = 1 / (1 + Math.exp(-z)) - labels[i];
    for (let k = 0; k < d; k++) g[k] += r * rows[i][k];
    g[d] += r;
  }
  for (let k = 0; k <= d; k++) g[k] /= rows.length;
  for (let k = 0; k < d; k++) g[k] += l2 * theta[k];
  return g;
}

export function plainLogistic(
  rows: number[][],
  labels: number[],
  l2: number,
  tolerance = 1e-10,
): PlainSolution {
  const d = rows[0].length;
  // the log-loss Hessian is at most X~^T X~ / (4 n) <= max ||x~||^2 / 4: a safe Lipschitz bound
  const maxNorm2 = Math.max(...rows.map((r) => r.reduce((a, v) => a + v * v, 1)));
  const step = 1 / (maxNorm2 / 4 + l2);
  let x = new Array<number>(d + 1).fill(0);
  let y = [...x];
  let t = 1;
  for (let iteration = 0; iteration < 1_000_000; iteration++) {
    const gy = gradient(y, rows, labels, l2);
    const next = y.map((v, k) => v - step * gy[k]);
    // restart the momentum when it points uphill
    const uphill = gy.reduce((a, g, k) => a + g * (next[k] - x[k]), 0) > 0;
    const tNext = uphill ? 1 : (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    y = uphill ? next : next.map((v, k) => v + ((t - 1) / tNext) * (v - x[k]));
    x = next;
    t = tNext;
    const gx = gradient(x, rows, labels, l2);
    const norm = Math.max(...gx.map(Math.abs));
    if (norm <= tolerance) return { weights: x.slice(0, d), bias: x[d], gradientNorm: norm };
  }
  throw new Error('plainLogistic: no convergence in 1e6 iterations');
}

/** Mean and sample standard deviation (n - 1), as the coordinator pools owners' statistics. */
export function meanStd(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  const m2 = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, std: Math.sqrt(m2 / (values.length - 1)) };
}
