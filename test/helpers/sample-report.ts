// A run report like the demo's, for the report tests.
import type { RunReport } from '../../src/report/report.js';

export const sampleReport: RunReport = {
  title: 'fedjoin demo: breast-cancer join <hospital & lab>',
  answers: [
    { label: 'rows joined', value: 569 },
    { label: 'AVG(h.mean_radius)', value: 14.127291739894563 },
    { label: 'accuracy | held-out', value: '0.947' },
    { label: 'COUNT(*)', value: 569n },
  ],
  timings: [
    { phase: 'encrypt tables', ms: 8123.4 },
    { phase: 'hashed join', ms: 412.9 },
    { phase: 'features to B', ms: 2210 },
    { phase: 'training (3 rounds)', ms: 95.25 },
  ],
  privacy:
    '(epsilon = 1.84, delta = 1e-5)-differential privacy over 3 rounds of DP-SGD (noise 1.1, clip 1.0).',
  lossPerRound: [0.69, 0.41, 0.322, 0.29, 0.281],
  benchRatios: [
    { label: 'encrypt 2048 x256 vs paillier-bigint', ratio: 6.2 },
    { label: 'decrypt 2048 x256 vs paillier-bigint', ratio: 3.4 },
    { label: 'join tile 64x64', ratio: 11.8 },
  ],
};
