// `fedjoin worker --role server-a|server-b --redis URL [--config file] [--workers N]`: takes
// the role's jobs from its queue on Redis and runs them on this host's cores (DESIGN §7).
// Settings come from the flags, then FEDJOIN_REDIS_URL / FEDJOIN_REDIS_CA /
// FEDJOIN_QUEUE_SECRET_FILE, then the role's config (engine.queue, keyFile). A server-b
// worker opens B's sealed key itself ($FEDJOIN_PASSPHRASE or a prompt). Logs JSON lines;
// SIGTERM finishes the running jobs and exits; a second SIGTERM exits at once, releasing them.
import { availableParallelism } from 'node:os';
import { type Command, Option } from 'commander';
import { fingerprint } from '../../engine/keys.js';
import { InvalidArgumentError } from '../../errors.js';
import { loadKey } from '../../keystore/index.js';
import type { QueueRole, QueueSettings } from '../../queue/config.js';
import { loadRoleConfig } from '../../serve/config.js';
import { obtainPassphrase } from '../../serve/files.js';
import { jsonLog } from '../../serve/log.js';
import { EXIT_FAILURE } from '../exit-codes.js';
import { guarded, integerOption, untilSignal } from './util.js';

interface WorkerFlags {
  role: QueueRole;
  redis?: string;
  redisCa?: string;
  queueSecret?: string;
  keyFile?: string;
  config?: string;
  workers?: number;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      "take a role's jobs from its queue on Redis and run them on this host's cores (DESIGN §7); " +
        'logs JSON lines on stdout; SIGTERM finishes the running jobs, a second one releases them',
    )
    .addOption(
      new Option('--role <role>', 'whose jobs').choices(['server-a', 'server-b']).makeOptionMandatory(),
    )
    .option('--redis <url>', 'redis://[user:password@]host:port or rediss:// (default: $FEDJOIN_REDIS_URL)')
    .option('--redis-ca <file>', "CA of the Redis server's TLS certificate (default: $FEDJOIN_REDIS_CA)")
    .option('--queue-secret <file>', 'the secret shared with the role (default: $FEDJOIN_QUEUE_SECRET_FILE)')
    .option('--key-file <file>', "server-b: B's sealed key file (default: $FEDJOIN_KEY_FILE or keyFile)")
    .option('--config <file>', "the role's JSON config (engine.queue, keyFile), as for fedjoin serve")
    .option('--workers <n>', 'pool threads, and jobs taken at once (default: all cores)', integerOption)
    .action(async function (this: Command, flags: WorkerFlags) {
      await guarded(this, async () => {
        const config = flags.config ? (await loadRoleConfig(flags.config)).config : undefined;
        const fromConfig = config?.engine.queue;
        const redis = flags.redis ?? process.env.FEDJOIN_REDIS_URL ?? fromConfig?.redis;
        if (!redis) throw new InvalidArgumentError('worker: pass --redis <url>, or set FEDJOIN_REDIS_URL');
        const threads = flags.workers ?? config?.engine.workers ?? availableParallelism();
        if (threads < 1) throw new InvalidArgumentError('--workers: expected at least 1');
        const caFile = flags.redisCa ?? process.env.FEDJOIN_REDIS_CA ?? fromConfig?.caFile;
        const secretFile =
          flags.queueSecret ?? process.env.FEDJOIN_QUEUE_SECRET_FILE ?? fromConfig?.secretFile;
        const settings: QueueSettings = {
          ...fromConfig,
          role: flags.role,
          redis,
          ...(caFile ? { caFile } : {}),
          ...(secretFile ? { secretFile } : {}),
        };
        const log = jsonLog(`worker:${flags.role}`);
        const keyFile = flags.keyFile ?? process.env.FEDJOIN_KEY_FILE ?? config?.keyFile;
        let keys: Awaited<ReturnType<typeof loadKey>> | undefined;
        if (flags.role === 'server-b') {
          if (!keyFile) throw new InvalidArgumentError("worker: server-b needs B's key file (--key-file)");
          keys = await loadKey(keyFile, await obtainPassphrase(`passphrase for ${keyFile}: `));
          log('key', { fingerprint: fingerprint(keys.publicKey.n) });
        }
        // loaded on use: BullMQ and ioredis only for this command
        const { QueueWorker } = await import('../../queue/worker.js');
        const { redactedUrl } = await import('../../queue/config.js');
        const worker = await QueueWorker.start({ settings, threads, keys, log });
        log('ready', { id: worker.id, redis: redactedUrl(redis), threads, pid: process.pid });
        const progress = setInterval(() => log('progress', { ...worker.stats }), 10_000);
        await untilSignal();
        clearInterval(progress);
        log('stopping', { running: 'finishing' });
        // a second signal gives the running jobs up: their locks lapse and other workers retry them
        const release = () => {
          log('stopped', { ...worker.stats, released: true });
          process.exit(EXIT_FAILURE);
        };
        process.once('SIGINT', release);
        process.once('SIGTERM', release);
        await worker.close();
        log('stopped', { ...worker.stats });
      });
    });
}
