// fedjoin's typed errors: one class per failure a caller may handle, each with a stable
// `code`. Errors lose their class across threads and HTTP, so they travel as records
// (toJSON) and are rebuilt with fromRecord. Messages name the element and bit sizes,
// never a plaintext, key material or an exponent.

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'PLAINTEXT_RANGE'
  | 'CIPHERTEXT_RANGE'
  | 'KEY_MISMATCH'
  | 'INVALID_KEY'
  | 'BATCH_LENGTH'
  | 'ENCODING_OVERFLOW'
  | 'MALFORMED_MESSAGE'
  | 'FORGED_CONTRIBUTION'
  | 'WORKER_CRASHED'
  | 'ENGINE_MEMORY'
  | 'ENGINE_CLOSED'
  | 'ABORTED'
  | 'KERNEL_STATUS'
  | 'POLICY_REFUSED'
  | 'MALFORMED_CSV'
  | 'NULL_VALUE'
  | 'MISSING_COLUMN'
  | 'UNSUPPORTED_QUERY'
  | 'TRANSPORT'
  | 'PEER_AUTH'
  | 'KEYSTORE'
  | 'PRIVACY_BUDGET'
  | 'INVALID_POINT'
  | 'QUEUE_JOB_FAILED';

export type ErrorDetails = Record<string, string | number | boolean | undefined>;

export interface ErrorRecord {
  code: ErrorCode;
  message: string;
  details: ErrorDetails;
}

export class FedjoinError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = new.target.name;
  }

  toJSON(): ErrorRecord {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** A value of the wrong type, sign or shape (negative exponent, even modulus...). */
export class InvalidArgumentError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('INVALID_ARGUMENT', message, details);
  }
}
/** A plaintext outside [0, n). */
export class PlaintextRangeError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('PLAINTEXT_RANGE', message, details);
  }
}
/** A ciphertext outside [1, n^2) or sharing a factor with n. */
export class CiphertextRangeError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('CIPHERTEXT_RANGE', message, details);
  }
}
/** Data under one key presented to another, or a private key not matching its public key. */
export class KeyMismatchError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('KEY_MISMATCH', message, details);
  }
}
/** A key that cannot be used: even or too small modulus, inconsistent parts. */
export class InvalidKeyError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('INVALID_KEY', message, details);
  }
}
/** Batches that must have equal lengths do not. */
export class BatchLengthError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('BATCH_LENGTH', message, details);
  }
}
/** NaN, Infinity, or a value whose fixed-point encoding could pass n/2. */
export class EncodingOverflowError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('ENCODING_OVERFLOW', message, details);
  }
}
/** A protocol message that fails its schema, arrives out of order, or under the wrong key. */
export class MalformedMessageError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('MALFORMED_MESSAGE', message, details);
  }
}
/** A dropped, altered, forged or replayed federated-learning contribution. */
export class ForgedContributionError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('FORGED_CONTRIBUTION', message, details);
  }
}
/** A worker died twice on the same shard. */
export class WorkerCrashedError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('WORKER_CRASHED', message, details);
  }
}
/** The WASM memory cannot grow to what a batch needs. */
export class EngineMemoryError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('ENGINE_MEMORY', message, details);
  }
}
/** The engine was used after close(). */
export class EngineClosedError extends FedjoinError {
  constructor(message = 'engine is closed', details: ErrorDetails = {}) {
    super('ENGINE_CLOSED', message, details);
  }
}
/** The caller's AbortSignal fired. */
export class AbortedError extends FedjoinError {
  constructor(message = 'operation aborted', details: ErrorDetails = {}) {
    super('ABORTED', message, details);
  }
}
/** A kernel returned a non-zero status: an internal invariant, reported with its code. */
export class KernelStatusError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('KERNEL_STATUS', message, details);
  }
}

/** A CSV that cannot become a table: ragged row, bad header, a cell not of its column's type. */
export class CsvError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('MALFORMED_CSV', message, details);
  }
}
/** An empty or NULL cell: fedjoin's tables are NULL-free. */
export class NullValueError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('NULL_VALUE', message, details);
  }
}
/** A table lacks a column that an option, a config or a join key names (the owner's data, not a query). */
export class MissingColumnError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('MISSING_COLUMN', message, details);
  }
}
/** SQL outside fedjoin's subset, or naming a table or column that does not exist. */
export class QueryError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('UNSUPPORTED_QUERY', message, details);
  }
}

/**
 * Server B's one answer to anything it will not do (DESIGN §1.1): the same message and no
 * details whatever the reason, so a refusal tells the sender nothing (no reason, no count,
 * no position). B logs the reason locally.
 */
export class PolicyRefusedError extends FedjoinError {
  constructor(message = 'server B refused the request', details: ErrorDetails = {}) {
    super('POLICY_REFUSED', message, details);
  }
}

/**
 * A peer could not be reached, timed out after every retry, or answered outside the
 * protocol (an HTTP status with no typed error, a body over the size limit).
 */
export class TransportError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('TRANSPORT', message, details);
  }
}
/**
 * Mutual TLS refused a peer: no certificate, one from another CA, a certificate that names
 * no fedjoin role or a role not allowed here, or a server that is not the role asked for.
 */
export class PeerAuthError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('PEER_AUTH', message, details);
  }
}
/**
 * A key file that cannot be opened: wrong passphrase, tampered or truncated envelope,
 * permissions wider than 0600, no passphrase given. Never carries key material.
 */
export class KeystoreError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('KEYSTORE', message, details);
  }
}

/** A planned differentially private computation whose epsilon would exceed the budget it is given. */
export class PrivacyBudgetError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('PRIVACY_BUDGET', message, details);
  }
}

// ---- EC ElGamal join tags (issue 10, DESIGN §3.2) ----

/**
 * Bytes that are not the canonical ristretto255 encoding of a group element, or the
 * identity where a protocol value cannot be it (a key, a ciphertext component, a tag).
 */
export class InvalidPointError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('INVALID_POINT', message, details);
  }
}

// ---- the job queue (issue 13, DESIGN §7) ----

/**
 * A shard sent to the job queue (DESIGN §7) failed on every attempt, or its workers kept
 * dying on it: details name the shard, its value range, the attempts and the last reason.
 */
export class QueueJobFailedError extends FedjoinError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('QUEUE_JOB_FAILED', message, details);
  }
}

const classes: Record<ErrorCode, new (message: string, details?: ErrorDetails) => FedjoinError> = {
  INVALID_ARGUMENT: InvalidArgumentError,
  PLAINTEXT_RANGE: PlaintextRangeError,
  CIPHERTEXT_RANGE: CiphertextRangeError,
  KEY_MISMATCH: KeyMismatchError,
  INVALID_KEY: InvalidKeyError,
  BATCH_LENGTH: BatchLengthError,
  ENCODING_OVERFLOW: EncodingOverflowError,
  MALFORMED_MESSAGE: MalformedMessageError,
  FORGED_CONTRIBUTION: ForgedContributionError,
  WORKER_CRASHED: WorkerCrashedError,
  ENGINE_MEMORY: EngineMemoryError,
  ENGINE_CLOSED: EngineClosedError,
  ABORTED: AbortedError,
  KERNEL_STATUS: KernelStatusError,
  POLICY_REFUSED: PolicyRefusedError,
  MALFORMED_CSV: CsvError,
  NULL_VALUE: NullValueError,
  MISSING_COLUMN: MissingColumnError,
  UNSUPPORTED_QUERY: QueryError,
  TRANSPORT: TransportError,
  PEER_AUTH: PeerAuthError,
  KEYSTORE: KeystoreError,
  PRIVACY_BUDGET: PrivacyBudgetError,
  INVALID_POINT: InvalidPointError,
  QUEUE_JOB_FAILED: QueueJobFailedError,
};

/** Rebuilds the typed error from a record that crossed a thread or process boundary. */
export function fromRecord(record: ErrorRecord): FedjoinError {
  const Ctor = classes[record.code];
  if (!Ctor) return new FedjoinError('INVALID_ARGUMENT', record.message, record.details);
  return new Ctor(record.message, record.details);
}

export function isErrorRecord(value: unknown): value is ErrorRecord {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorRecord).code === 'string' &&
    typeof (value as ErrorRecord).message === 'string'
  );
}
