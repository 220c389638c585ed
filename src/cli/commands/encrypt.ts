// `fedjoin encrypt --config owner.json [--owner name] [--csv file --join-key id ...] [--json]`:
// a data owner encrypts a CSV table's columns under B's public key (with hashed tags and
// nested-loop keys for its join keys) and posts the encrypted table to server A over
// mutual TLS. Without --csv it shares every table the config lists.
import type { Command } from 'commander';
import { Option } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { loadRoleConfig, type TableConfig, tableConfig } from '../../serve/config.js';
import { silentLog } from '../../serve/log.js';
import { openOwner, type ShareRecord } from '../../serve/start-role.js';
import { guarded, listOption, toJson } from './util.js';

interface EncryptFlags {
  config?: string;
  owner?: string;
  csv?: string;
  table?: string;
  columns?: string[];
  joinKey?: string[];
  mode: 'hashed' | 'nested' | 'both';
  json?: boolean;
}

export function registerEncrypt(program: Command): void {
  program
    .command('encrypt')
    .description(
      "as a data owner: encrypt a CSV table under B's public key and send it to server A over mutual TLS " +
        '(--csv for one table, else every table in the config)',
    )
    .option('--config <file>', "the owner's JSON config (default: $FEDJOIN_CONFIG)")
    .option('--owner <name>', 'owner name (default: the config role owner:<name>)')
    .option('--csv <file>', 'the CSV table to share')
    .option('--table <name>', 'table name at A (default: the file name)')
    .option('--columns <list>', 'columns to encrypt (default: all but the join keys)', listOption)
    .option(
      '--join-key <cols>',
      'a join key, comma-separated columns (repeatable)',
      (v, prev: string[] = []) => [...prev, v],
    )
    .addOption(
      new Option('--mode <mode>', 'join modes to prepare the keys for')
        .choices(['hashed', 'nested', 'both'])
        .default('both'),
    )
    .option('--json', 'print the result as JSON')
    .action(async function (this: Command, flags: EncryptFlags) {
      await guarded(this, async () => {
        const { config } = await loadRoleConfig(flags.config);
        const role = flags.owner ? `owner:${flags.owner}` : config.role;
        if (!role?.startsWith('owner:')) {
          throw new InvalidArgumentError(
            'owner: pass --owner <name> or set "role": "owner:<name>" in the config',
          );
        }
        let tables: TableConfig[];
        if (flags.csv) {
          tables = [
            tableConfig({
              csv: flags.csv,
              ...(flags.table ? { name: flags.table } : {}),
              ...(flags.columns ? { columns: flags.columns } : {}),
              joinKeys: (flags.joinKey ?? []).map((k) => listOption(k)),
              ...(flags.mode === 'both' ? {} : { joinModes: [flags.mode] }),
            }),
          ];
        } else tables = config.tables;
        if (tables.length === 0)
          throw new InvalidArgumentError('no table: pass --csv or list tables in the config');
        const ctx = await openOwner(role, config, silentLog);
        const records: ShareRecord[] = [];
        try {
          for (const table of tables) {
            const record = await ctx.share(table);
            records.push(record);
            if (!flags.json) {
              process.stdout.write(
                `${role} shared ${record.table}: ${record.rows} rows, columns ${record.columns.join(', ')}; ` +
                  `${record.ciphertexts} ciphertexts encrypted in ${(record.encryptMs / 1000).toFixed(2)} s; ` +
                  `${(record.bytes / 1e6).toFixed(2)} MB to server A in ${(record.sendMs / 1000).toFixed(2)} s ` +
                  `(${record.megabytesPerSecond.toFixed(1)} MB/s)\n`,
              );
            }
          }
        } finally {
          await ctx.close();
        }
        if (flags.json) process.stdout.write(`${toJson({ owner: role, tables: records })}\n`);
      });
    });
}
