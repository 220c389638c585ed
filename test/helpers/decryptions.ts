// A spy on an engine's decryptions: every ciphertext B decrypts, whichever form it uses,
// for tests that check what B's view holds.
import type { Engine } from '../../src/engine/engine.js';
import { unpack } from '../../src/engine/limbs.js';

/** Wraps `engine`'s decrypt and decryptPacked so that each call's ciphertexts land in `into`. */
export function recordDecryptions(engine: Engine, into: bigint[][]): void {
  const decrypt = engine.decrypt.bind(engine);
  engine.decrypt = async (key, cs, options) => {
    into.push([...cs]);
    return decrypt(key, cs, options);
  };
  const decryptPacked = engine.decryptPacked.bind(engine);
  engine.decryptPacked = async (key, cs, options) => {
    into.push(unpack(cs));
    return decryptPacked(key, cs, options);
  };
}
