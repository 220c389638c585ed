// A client's answer (src/roles/client.ts) as a run report's answer rows, for `fedjoin query`.
import type { Answer } from '../roles/client.js';
import type { RunReport } from './report.js';

export function answerRows(answer: Answer, prefix = ''): RunReport['answers'] {
  const rows: RunReport['answers'] = [{ label: `${prefix}rows joined`, value: answer.rowsJoined }];
  for (const { label, value } of answer.items) rows.push({ label: `${prefix}${label}`, value });
  return rows;
}
