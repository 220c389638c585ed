// `fedjoin serve <role> [--config file]`: one role as an HTTPS service with mutual TLS,
// configured by a JSON file (--config or $FEDJOIN_CONFIG) and environment overrides
// (src/serve/config.ts), started by src/serve/start-role.ts. Roles: server-a, server-b
// (opens its sealed key with $FEDJOIN_PASSPHRASE or a prompt), coordinator, client
// (answers queries given as JSON lines on stdin: serve-client.ts), owner:<name> (encrypts
// its configured tables and hands them to A; keeps serving only when it takes part in
// training). Logs one JSON object per line on stdout; stops on SIGINT / SIGTERM.
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { loadRoleConfig } from '../../serve/config.js';
import { jsonLog } from '../../serve/log.js';
import {
  checkServeRole,
  openClient,
  type RoleContext,
  startCoordinator,
  startOwner,
  startServerA,
  startServerB,
} from '../../serve/start-role.js';
import { answerStdin } from './serve-client.js';
import { guarded, untilSignal } from './util.js';

interface ServeFlags {
  config?: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .argument('<role>', 'server-a | server-b | client | coordinator | owner:<name>')
    .description(
      'run one role as an HTTPS service (mutual TLS), configured by --config <file> or $FEDJOIN_CONFIG ' +
        '(listen host/port, credentials dir, peers role -> URL, allowed peers, publicKey; server-b: keyFile; ' +
        'owners: joinSecretFile and tables); logs JSON lines on stdout; stops on SIGINT/SIGTERM',
    )
    .option('--config <file>', 'JSON config file (default: $FEDJOIN_CONFIG)')
    .action(async function (this: Command, role: string, flags: ServeFlags) {
      await guarded(this, async () => {
        checkServeRole(role);
        const { config } = await loadRoleConfig(flags.config);
        if (config.role !== undefined && config.role !== role) {
          throw new InvalidArgumentError(`config is for ${config.role}, not ${role}`);
        }
        const log = jsonLog(role);
        let ctx: RoleContext;
        if (role === 'server-b') ctx = await startServerB(config, log);
        else if (role === 'server-a') ctx = await startServerA(config, log);
        else if (role === 'coordinator') ctx = await startCoordinator(config, log);
        else if (role === 'client') {
          const client = await openClient(config, log);
          answerStdin(client, log);
          ctx = client;
        } else {
          const started = await startOwner(role, config, log);
          ctx = started.ctx;
          if (!started.keepRunning) {
            await ctx.close();
            log('stopped', { reason: 'tables shared; no training table to serve' });
            return;
          }
        }
        await untilSignal();
        await ctx.close();
        log('stopped', { reason: 'signal' });
        // stdin (the client's query feed) may still hold the event loop open
        process.stdin.destroy();
      });
    });
}
