// The small certificate authority behind mutual TLS between roles (issue 6): `initCa`
// makes a CA and one key and certificate per role, `issueRoleCredentials` adds a role
// later (a new data owner). Keys are RSA-2048 from node:crypto; certificates are built
// and signed by node-forge (no openssl binary needed). Private keys are written 0600 in
// a 0700 directory, atomically (temporary file + rename), and never printed.
import { generateKeyPair, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';
import { InvalidArgumentError } from '../errors.js';
import { isRoleName, roleFileStem, roleUri } from './identity.js';

const { pki } = forge;

/** The roles a fresh CA issues credentials for; owners are added by name. */
export const DEFAULT_CA_ROLES = ['server-a', 'server-b', 'client', 'coordinator'] as const;

export interface IssueOptions {
  /** Validity of role certificates in days (default 825). */
  days?: number;
  /**
   * Host names and IP addresses the role is reached at, added as DNS / IP SANs so that
   * ordinary TLS tools accept the server too (default localhost, 127.0.0.1, ::1). fedjoin's
   * own client checks the role URI instead (see transport.ts).
   */
  hosts?: string[];
  /** RSA modulus bits (default 2048). */
  keyBits?: number;
}

export interface CaOptions extends IssueOptions {
  /** Roles to issue credentials for (default DEFAULT_CA_ROLES). */
  roles?: string[];
  /** Validity of the CA certificate in days (default 3650). */
  caDays?: number;
  /** Replace an existing CA in `dir` (default false: refuse). */
  force?: boolean;
}

export interface RoleFiles {
  cert: string;
  key: string;
}

export interface CaFiles {
  dir: string;
  caCert: string;
  caKey: string;
  roles: Record<string, RoleFiles>;
}

/** What a role needs for mutual TLS: its key and certificate and the CA it trusts (PEM). */
export interface TlsCredentials {
  key: string;
  cert: string;
  ca: string;
}

const DEFAULT_HOSTS = ['localhost', '127.0.0.1', '::1'];

/** Creates `dir` (0700) with ca.key, ca.crt and <role>.key, <role>.crt for each role. */
export async function initCa(dir: string, options: CaOptions = {}): Promise<CaFiles> {
  const roles = options.roles ?? [...DEFAULT_CA_ROLES];
  for (const role of roles) checkRole(role);
  const caCert = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  if (!options.force && (await exists(caKey))) {
    throw new InvalidArgumentError(`CA: ${caKey} exists; pass force to replace it`);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);

  const keys = await rsaKeyPair(options.keyBits ?? 2048);
  const cert = pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  setValidity(cert, options.caDays ?? 3650);
  // a random suffix keeps two CAs' subjects apart, so a certificate from another fedjoin CA
  // fails as "unknown CA" rather than matching this one by name
  const subject = [
    { name: 'commonName', value: `fedjoin CA ${randomBytes(4).toString('hex')}` },
    { name: 'organizationName', value: 'fedjoin' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  await writeSecret(caKey, keys.pem);
  await writePublic(caCert, pki.certificateToPem(cert));

  const files: CaFiles = { dir, caCert, caKey, roles: {} };
  for (const role of roles) files.roles[role] = await issueRoleCredentials(dir, role, options);
  return files;
}

/** Issues (or re-issues) the key and certificate of `role` from the CA in `dir`. */
export async function issueRoleCredentials(
  dir: string,
  role: string,
  options: IssueOptions = {},
): Promise<RoleFiles> {
  checkRole(role);
  const caCert = pki.certificateFromPem(await readFile(join(dir, 'ca.crt'), 'utf8'));
  const caKey = pki.privateKeyFromPem(await readFile(join(dir, 'ca.key'), 'utf8'));
  const keys = await rsaKeyPair(options.keyBits ?? 2048);
  const cert = pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  setValidity(cert, options.days ?? 825);
  cert.setSubject([
    { name: 'commonName', value: role },
    { name: 'organizationName', value: 'fedjoin' },
  ]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames: { type: number; value?: string; ip?: string }[] = [{ type: 6, value: roleUri(role) }];
  for (const host of options.hosts ?? DEFAULT_HOSTS) {
    altNames.push(isIP(host) ? { type: 7, ip: host } : { type: 2, value: host });
  }
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  const stem = roleFileStem(role);
  const files = { cert: join(dir, `${stem}.crt`), key: join(dir, `${stem}.key`) };
  await writeSecret(files.key, keys.pem);
  await writePublic(files.cert, pki.certificateToPem(cert));
  return files;
}

/** Reads the credentials of `role` from a CA directory made by initCa. */
export async function loadCredentials(dir: string, role: string): Promise<TlsCredentials> {
  checkRole(role);
  const stem = roleFileStem(role);
  const [key, cert, ca] = await Promise.all([
    readFile(join(dir, `${stem}.key`), 'utf8'),
    readFile(join(dir, `${stem}.crt`), 'utf8'),
    readFile(join(dir, 'ca.crt'), 'utf8'),
  ]);
  return { key, cert, ca };
}

function checkRole(role: string): void {
  if (!isRoleName(role)) {
    throw new InvalidArgumentError(
      `role: expected a name like 'server-a' or 'owner:hospital', got ${JSON.stringify(role).slice(0, 80)}`,
    );
  }
}

/** RSA key from node:crypto (native, ~0.1 s at 2048 bits), handed to forge for signing. */
async function rsaKeyPair(
  bits: number,
): Promise<{ publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey; pem: string }> {
  const { publicKey, privateKey } = await new Promise<{ publicKey: string; privateKey: string }>(
    (resolve, reject) =>
      generateKeyPair(
        'rsa',
        {
          modulusLength: bits,
          publicKeyEncoding: { type: 'spki', format: 'pem' },
          privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        },
        (err, pub, priv) => (err ? reject(err) : resolve({ publicKey: pub, privateKey: priv })),
      ),
  );
  return {
    publicKey: pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey,
    privateKey: pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey,
    pem: privateKey,
  };
}

/** 128 random bits, positive in DER (top bit clear, first byte non-zero). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function setValidity(cert: forge.pki.Certificate, days: number): void {
  if (!Number.isInteger(days) || days < 1) {
    throw new InvalidArgumentError(`days: expected a positive integer, got ${days}`);
  }
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60_000); // tolerate small clock skew
  cert.validity.notAfter = new Date(now + days * 86_400_000);
}

/** Writes a private key 0600 via a temporary file and a rename, so no reader sees it partial or open. */
async function writeSecret(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

async function writePublic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, text, { mode: 0o644, flag: 'wx' });
  await rename(tmp, path);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
