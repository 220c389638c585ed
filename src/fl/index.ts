// The plaintext learning math of DESIGN §4: logistic regression and per-coordinate FedAvg,
// standardisation, metrics, DP-SGD and its RDP accountant. No cryptography here: the
// protocol encrypts, signs and aggregates these numbers around this API.
export * from './dp-sgd.js';
export * from './log-math.js';
export * from './logistic.js';
export * from './metrics.js';
export * from './random.js';
export * from './rdp-accountant.js';
export * from './standardize.js';
