// The command line's exit codes, the one home for program.ts and every subcommand: 0 ok,
// 1 failure, 2 usage, and for the deployment commands (init, keygen, serve, encrypt, query)
// one code per failure a script may handle: a refused key or passphrase, a refused peer,
// an unreachable peer, a refused query, an owner's data that cannot be read or encrypted.
import {
  CsvError,
  EncodingOverflowError,
  InvalidArgumentError,
  KeystoreError,
  MissingColumnError,
  NullValueError,
  PeerAuthError,
  PolicyRefusedError,
  QueryError,
  TransportError,
} from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** Unknown command or option, missing or bad value. */
export const EXIT_USAGE = 2;
/** The key file or the passphrase was refused (wrong passphrase, tampered file, loose permissions). */
export const EXIT_KEY = 3;
/** A peer refused our credentials, or we refused its certificate (mutual TLS). */
export const EXIT_AUTH = 4;
/** A peer could not be reached or failed (after the transport's retries). */
export const EXIT_UNREACHABLE = 5;
/** A query was refused: unsupported SQL, unknown table or column, or server B's policy. */
export const EXIT_QUERY = 6;
/**
 * The owner's data could not be read or encrypted: an unreadable file, a CSV format error,
 * a NULL cell, a cell not of its column's type, a column the config or options name that
 * the table lacks, a cell too large to encode (a long string, a huge number).
 */
export const EXIT_DATA = 7;

export function exitCodeForError(err: unknown): number {
  if (err instanceof KeystoreError) return EXIT_KEY;
  if (err instanceof PeerAuthError) return EXIT_AUTH;
  if (err instanceof TransportError) return EXIT_UNREACHABLE;
  if (err instanceof QueryError || err instanceof PolicyRefusedError) return EXIT_QUERY;
  if (
    err instanceof CsvError ||
    err instanceof NullValueError ||
    err instanceof MissingColumnError ||
    err instanceof EncodingOverflowError
  ) {
    return EXIT_DATA;
  }
  if (err instanceof InvalidArgumentError) return EXIT_USAGE;
  return EXIT_FAILURE;
}
