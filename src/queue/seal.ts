// Sealing what goes through Redis (DESIGN §7): every job payload and every result is
// AES-256-GCM under a key derived from the role's queue secret, with the queue, call,
// shard and direction as associated data. Redis then sees sizes and timings only, and a
// sealed payload replayed into another shard, call or queue does not open.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { MalformedMessageError } from '../errors.js';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** What a sealed payload is bound to: replaying it under any other label fails to open. */
export interface SealLabel {
  /** A job, its reply, or the part every job of a call shares (shard -1). */
  direction: 'job' | 'reply' | 'shared';
  call: string;
  shard: number;
}

export class Sealer {
  private readonly key: Buffer;

  constructor(secret: Uint8Array, queue: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `fedjoin/queue/v1/${queue}`, 32));
  }

  /** nonce | ciphertext | tag of the concatenated parts; nonces are random (96 bits, one key per queue). */
  seal(label: SealLabel, parts: readonly Uint8Array[]): Buffer {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(label));
    const body = parts.map((part) => cipher.update(part));
    return Buffer.concat([nonce, ...body, cipher.final(), cipher.getAuthTag()]);
  }

  open(label: SealLabel, sealed: Uint8Array): Buffer {
    const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (bytes.length < NONCE_BYTES + TAG_BYTES) {
      throw new MalformedMessageError(`queue ${label.direction} for shard ${label.shard}: too short to open`);
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, NONCE_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(aad(label));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      // a wrong queue secret and an edited payload look the same to GCM
      throw new MalformedMessageError(
        `queue ${label.direction} for shard ${label.shard} does not open: another queue secret, or altered in Redis`,
        { shard: label.shard },
      );
    }
  }
}

function aad(label: SealLabel): Buffer {
  return Buffer.from(`${label.direction}\n${label.call}\n${label.shard}`, 'utf8');
}
