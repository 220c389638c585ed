// Exit codes of the deployment commands (init, keygen, serve, encrypt, query), beyond the
// CLI's 0 ok / 1 failure / 2 usage (src/cli/exit-codes.ts): a script can tell a refused
// key or passphrase from an unreachable peer from a refused query.
import {
  CsvError,
  FedjoinError,
  InvalidArgumentError,
  KeystoreError,
  NullValueError,
  PeerAuthError,
  PolicyRefusedError,
  QueryError,
  TransportError,
} from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** The key file or the passphrase was refused (wrong passphrase, tampered file, loose permissions). */
export const EXIT_KEY = 3;
/** A peer refused our credentials, or we refused its certificate (mutual TLS). */
export const EXIT_AUTH = 4;
/** A peer could not be reached or failed (after the transport's retries). */
export const EXIT_UNREACHABLE = 5;
/** A query was refused: unsupported SQL, unknown table or column, or server B's policy. */
export const EXIT_QUERY = 6;
/** The owner's data could not be read (CSV format, NULL cells). */
export const EXIT_DATA = 7;

export function exitCodeForError(err: unknown): number {
  if (err instanceof KeystoreError) return EXIT_KEY;
  if (err instanceof PeerAuthError) return EXIT_AUTH;
  if (err instanceof TransportError) return EXIT_UNREACHABLE;
  if (err instanceof QueryError || err instanceof PolicyRefusedError) return EXIT_QUERY;
  if (err instanceof CsvError || err instanceof NullValueError) return EXIT_DATA;
  if (err instanceof InvalidArgumentError) return EXIT_USAGE;
  if (err instanceof FedjoinError) return EXIT_FAILURE;
  return EXIT_FAILURE;
}

/** One line for the user: the message only (fedjoin's messages carry no key material or cell). */
export function errorLine(err: unknown): string {
  if (err instanceof FedjoinError) return `${err.code}: ${err.message}`;
  return (err as Error)?.message ?? String(err);
}
