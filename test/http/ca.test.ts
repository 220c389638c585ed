// The role CA and role identities: files and modes that initCa writes, certificates that
// name their role as CN and URI SAN, and the parsing that refuses anything ambiguous.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { type CaFiles, initCa, issueRoleCredentials } from '../../src/http/ca.js';
import { roleAllowed, roleOfCertificate } from '../../src/http/identity.js';

let root: string;
let files: CaFiles;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fedjoin-ca-'));
  files = await initCa(join(root, 'ca'), { roles: ['server-b', 'owner:clinic.north'] });
});
afterAll(() => rm(root, { recursive: true, force: true }));

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('initCa', () => {
  it('writes private keys 0600 in a 0700 directory, certificates 0644', async () => {
    expect(await mode(files.dir)).toBe(0o700);
    expect(await mode(files.caKey)).toBe(0o600);
    expect(await mode(files.caCert)).toBe(0o644);
    expect(files.roles['owner:clinic.north']).toEqual({
      cert: join(files.dir, 'owner.clinic.north.crt'),
      key: join(files.dir, 'owner.clinic.north.key'),
    });
    for (const role of Object.values(files.roles)) {
      expect(await mode(role.key)).toBe(0o600);
      expect(await mode(role.cert)).toBe(0o644);
    }
  });

  it('issues role certificates signed by the CA that name the role as CN and URI SAN', async () => {
    const ca = new X509Certificate(await readFile(files.caCert));
    const cert = new X509Certificate(await readFile(files.roles['server-b'].cert));
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.subject).toContain('CN=server-b');
    expect(cert.subjectAltName).toContain('URI:urn:fedjoin:role:server-b');
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
  });

  it('refuses to replace an existing CA unless forced', async () => {
    await expect(initCa(files.dir, { roles: [] })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('adds a role later, with extra host names', async () => {
    const added = await issueRoleCredentials(files.dir, 'owner:lab', {
      hosts: ['lab.example.org', '10.0.0.7'],
    });
    const cert = new X509Certificate(await readFile(added.cert));
    expect(cert.subjectAltName).toContain('DNS:lab.example.org');
    expect(cert.subjectAltName).toContain('IP Address:10.0.0.7');
    expect(await mode(added.key)).toBe(0o600);
  });

  it('refuses role names that could smuggle separators', async () => {
    for (const bad of ['Server', 'owner:a, URI:urn:x', 'owner:', '../ca', 'a:b:c']) {
      await expect(issueRoleCredentials(files.dir, bad)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
  });
});

describe('roleOfCertificate', () => {
  const cert = (cn: string | undefined, san: string | undefined) =>
    ({ subject: cn === undefined ? {} : { CN: cn }, subjectaltname: san }) as unknown as PeerCertificate;

  it.each([
    ['CN and URI agree', cert('server-a', 'URI:urn:fedjoin:role:server-a, DNS:localhost'), 'server-a'],
    ['an owner', cert('owner:lab', 'URI:urn:fedjoin:role:owner:lab'), 'owner:lab'],
    ['CN and URI disagree', cert('server-a', 'URI:urn:fedjoin:role:server-b'), undefined],
    ['no role URI', cert('server-a', 'DNS:localhost'), undefined],
    ['no SAN at all', cert('server-a', undefined), undefined],
    [
      'two role URIs',
      cert('server-a', 'URI:urn:fedjoin:role:server-a, URI:urn:fedjoin:role:server-b'),
      undefined,
    ],
    ['no CN', cert(undefined, 'URI:urn:fedjoin:role:server-a'), undefined],
    ['an invalid role name', cert('Server A', 'URI:urn:fedjoin:role:Server A'), undefined],
  ])('%s', (_name, c, expected) => {
    expect(roleOfCertificate(c)).toBe(expected);
  });

  it('matches allowed-peer patterns exactly or by kind', () => {
    expect(roleAllowed('owner:lab', ['owner:*'])).toBe(true);
    expect(roleAllowed('owner', ['owner:*'])).toBe(false);
    expect(roleAllowed('ownerx:lab', ['owner:*'])).toBe(false);
    expect(roleAllowed('server-a', ['server-a', 'client'])).toBe(true);
    expect(roleAllowed('server-b', ['server-a'])).toBe(false);
    expect(roleAllowed('server-b', undefined)).toBe(true);
  });
});
