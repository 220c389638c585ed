// `fedjoin init [--dir .fedjoin] [--roles r1,r2] [--owners a,b] [--hosts h1,h2] [--force] [--json]`:
// the role CA for mutual TLS (src/http/ca.ts) and a key and certificate per role. With an
// existing CA in --dir it only issues the listed roles (a new data owner, a new host).
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_CA_ROLES, initCa, issueRoleCredentials, type RoleFiles } from '../../http/ca.js';
import { guarded, listOption, toJson } from './util.js';

interface InitFlags {
  dir: string;
  roles?: string[];
  owners?: string[];
  hosts?: string[];
  force?: boolean;
  json?: boolean;
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(
      'create the role CA and a key + certificate per role for mutual TLS (private keys 0600 in a 0700 ' +
        'directory); with an existing CA, issue credentials for the listed roles only',
    )
    .option('--dir <dir>', 'credentials directory', '.fedjoin')
    .option(
      '--roles <list>',
      `comma-separated roles (default: ${DEFAULT_CA_ROLES.join(', ')}, plus --owners)`,
      listOption,
    )
    .option('--owners <list>', 'data owner names, each issued as owner:<name>', listOption)
    .option(
      '--hosts <list>',
      'host names / IPs put in the certificates (default localhost, 127.0.0.1, ::1)',
      listOption,
    )
    .option('--force', 'replace an existing CA (every role then needs its new credentials)')
    .option('--json', 'print the files made as JSON')
    .action(async function (this: Command, flags: InitFlags) {
      await guarded(this, async () => {
        const owners = (flags.owners ?? []).map((o) => (o.startsWith('owner:') ? o : `owner:${o}`));
        const caExists = await stat(join(flags.dir, 'ca.key')).then(
          () => true,
          () => false,
        );
        const hosts = flags.hosts ? { hosts: flags.hosts } : {};
        let roles: Record<string, RoleFiles>;
        let created: boolean;
        if (caExists && !flags.force) {
          const wanted = [...(flags.roles ?? []), ...owners];
          if (wanted.length === 0) {
            throw new Error(`${flags.dir} already holds a CA: name --roles / --owners to issue, or --force`);
          }
          roles = {};
          for (const role of wanted) roles[role] = await issueRoleCredentials(flags.dir, role, hosts);
          created = false;
        } else {
          const wanted = [...(flags.roles ?? DEFAULT_CA_ROLES), ...owners];
          roles = (await initCa(flags.dir, { roles: wanted, force: flags.force === true, ...hosts })).roles;
          created = true;
        }
        const result = { dir: flags.dir, caCreated: created, caCert: join(flags.dir, 'ca.crt'), roles };
        if (flags.json) {
          process.stdout.write(`${toJson(result)}\n`);
          return;
        }
        process.stdout.write(
          `${created ? 'created the role CA in' : 'used the role CA in'} ${flags.dir} (ca.crt: give to every role; ca.key: keep offline)\n`,
        );
        for (const [role, files] of Object.entries(roles)) {
          process.stdout.write(`  ${role.padEnd(20)} ${files.cert}  ${files.key} (0600)\n`);
        }
      });
    });
}
