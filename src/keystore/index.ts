// Server B's private key at rest (issue 6): scrypt + AES-256-GCM key files, 0600.
export {
  DEFAULT_SCRYPT,
  KEYSTORE_FORMAT,
  KEYSTORE_VERSION,
  type KeyEnvelope,
  type KeyInfo,
  loadKey,
  MIN_PASSPHRASE_LENGTH,
  PASSPHRASE_ENV,
  readKeyInfo,
  resolvePassphrase,
  rotateKey,
  type SaveOptions,
  type ScryptParams,
  saveKey,
} from './keystore.js';
