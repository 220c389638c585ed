// fedjoin's HTTP transport (issue 6): roles as HTTPS services with mutual TLS from a small
// role CA, idempotent retried requests, typed errors across processes.
export {
  type CaFiles,
  type CaOptions,
  DEFAULT_CA_ROLES,
  type IssueOptions,
  initCa,
  issueRoleCredentials,
  loadCredentials,
  type RoleFiles,
  type TlsCredentials,
} from './ca.js';
export { IdempotencyCache, type IdempotencyOptions } from './idempotency.js';
export { isRoleName, roleAllowed, roleOfCertificate, roleUri } from './identity.js';
export { DEFAULT_BODY_LIMIT_BYTES, type RoleServer, type ServeConfig, serveRole } from './server.js';
export { HttpTransport, type HttpTransportOptions } from './transport.js';
export { BINARY_TYPE, IDEMPOTENCY_HEADER, MESSAGE_PATH, newIdempotencyKey } from './wire.js';
