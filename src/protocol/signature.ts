// Ed25519 signatures over protocol messages (DESIGN §1.1, §4): a SHA-256 digest binds a
// label (what is signed, and its version), the message's fields as canonical JSON, and
// optionally its packed ciphertexts, so no field can be changed or moved to another
// kind of message without breaking the signature.
import { createHash, type KeyObject, sign, verify } from 'node:crypto';
import type { MessageOf } from './messages.js';

export function signedDigest(label: string, fields: unknown, data?: Uint32Array): Buffer {
  const hash = createHash('sha256').update(JSON.stringify([label, fields]));
  if (data) hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return hash.digest();
}

export function signDigest(digest: Buffer, privateKey: KeyObject): string {
  return sign(null, digest, privateKey).toString('base64');
}

/** False for a bad signature, a malformed one, or a key of the wrong type. */
export function verifyDigest(digest: Buffer, signature: string, publicKey: KeyObject): boolean {
  try {
    return verify(null, digest, publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** What an owner signs in a table registration: every field but the signature. */
export function registrationDigest(r: Omit<MessageOf<'table-registration'>, 'type' | 'signature'>): Buffer {
  return signedDigest('fedjoin/table-registration/v1', [
    r.table,
    r.owner,
    r.fingerprint,
    r.rowCount,
    r.columns,
    r.joinKeys,
    r.coOwners,
  ]);
}
