// `fedjoin query --config client.json [--mode hashed|nested] [--json] [--report dir] <sql>`:
// as the client, send one SQL query to server A over mutual TLS and print the answer. The
// client's endpoint is up while the query runs (server B sends aggregate totals to it).
// Writes a report (markdown + HTML, src/report/) unless --no-report.
import { type Command, Option } from 'commander';
import { answerRows, baselineBenchRatios, writeReport } from '../../report/index.js';
import { loadRoleConfig } from '../../serve/config.js';
import { silentLog } from '../../serve/log.js';
import { openClient } from '../../serve/start-role.js';
import { guarded, toJson } from './util.js';

interface QueryFlags {
  config?: string;
  mode: 'hashed' | 'nested';
  json?: boolean;
  report: string | false;
}

export function registerQuery(program: Command): void {
  program
    .command('query')
    .argument('<sql>', 'e.g. "SELECT COUNT(*), AVG(h.age) FROM hospital h JOIN lab l ON h.id = l.id"')
    .description(
      'as the client: send an SQL query to server A over mutual TLS and print the answer (aggregates: ' +
        'COUNT/SUM/AVG decrypted as totals by B; feature queries: B receives the joined rows)',
    )
    .option('--config <file>', "the client's JSON config (default: $FEDJOIN_CONFIG)")
    .addOption(new Option('--mode <mode>', 'join mode').choices(['hashed', 'nested']).default('hashed'))
    .option('--json', 'print the answer as JSON')
    .option('--report <dir>', 'write report.md and report.html here', './fedjoin-report')
    .option('--no-report', 'write no report')
    .action(async function (this: Command, sql: string, flags: QueryFlags) {
      await guarded(this, async () => {
        const { config } = await loadRoleConfig(flags.config);
        const ctx = await openClient(config, silentLog);
        const start = performance.now();
        let answer: Awaited<ReturnType<typeof ctx.client.query>>;
        try {
          answer = await ctx.client.query(sql, { mode: flags.mode });
        } finally {
          await ctx.close();
        }
        const ms = performance.now() - start;
        let report: { markdown: string; html: string } | undefined;
        if (flags.report !== false) {
          const bench = await baselineBenchRatios();
          report = await writeReport(flags.report, {
            title: `fedjoin query (${flags.mode} join)`,
            generatedAt: new Date().toISOString(),
            answers: [{ label: 'query', value: sql }, ...answerRows(answer)],
            timings: [
              ...Object.entries(answer.timingsMs).map(([phase, t]) => ({
                phase: `server A: ${phase}`,
                ms: t,
              })),
              { phase: 'round trip at the client (total)', ms },
            ],
            privacy:
              answer.privacy ??
              'Server B decrypted only the totals, and only for a joined group at least its minimum size; ' +
                'no row left server A, and no differential-privacy noise was added to this answer.',
            ...(bench ? { benchRatios: bench.ratios } : {}),
          });
        }
        if (flags.json) {
          process.stdout.write(`${toJson({ sql, mode: flags.mode, ms, answer, report: report ?? null })}\n`);
          return;
        }
        process.stdout.write(`rows joined: ${answer.rowsJoined}\n`);
        for (const { label, value } of answer.items) process.stdout.write(`${label}: ${value}\n`);
        if (answer.privacy) process.stdout.write(`privacy: ${answer.privacy}\n`);
        process.stdout.write(
          `time: ${(ms / 1000).toFixed(2)} s${report ? ` | report: ${report.html}` : ''}\n`,
        );
      });
    });
}
