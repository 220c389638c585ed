// Role identities in certificates (DESIGN §1, issue 6): a role certificate names its role
// twice, as the subject CN and as one URI subject alternative name urn:fedjoin:role:<role>,
// and a peer counts as that role only when both agree. Role names are checked here so that
// a name can never smuggle a separator into a SAN list or a file name.
import type { PeerCertificate } from 'node:tls';
import { matchesRole } from '../protocol/authorization.js';

export const ROLE_URI_PREFIX = 'urn:fedjoin:role:';

/** 'server-a', 'server-b', 'client', 'coordinator', or '<kind>:<name>' such as 'owner:hospital'. */
const ROLE_PATTERN = /^[a-z][a-z0-9-]{0,31}(:[A-Za-z0-9][A-Za-z0-9_.-]{0,63})?$/;

export function isRoleName(role: string): boolean {
  return ROLE_PATTERN.test(role);
}

/** The URI SAN that carries `role`. */
export function roleUri(role: string): string {
  return `${ROLE_URI_PREFIX}${role}`;
}

/** File stem for a role's key and certificate: ':' becomes the first '.', so stems stay unique. */
export function roleFileStem(role: string): string {
  return role.replace(':', '.');
}

/**
 * The role a peer certificate proves, or undefined: exactly one fedjoin role URI in its
 * subject alternative names, equal to its subject CN, and a valid role name.
 */
export function roleOfCertificate(cert: PeerCertificate | undefined | null): string | undefined {
  if (!cert || typeof cert !== 'object' || !cert.subject) return undefined;
  const entries = (cert.subjectaltname ?? '').split(', ').filter((e) => e.length > 0);
  const roles = entries
    .filter((e) => e.startsWith(`URI:${ROLE_URI_PREFIX}`))
    .map((e) => e.slice(`URI:${ROLE_URI_PREFIX}`.length));
  if (roles.length !== 1) return undefined;
  const [role] = roles;
  const cn = cert.subject.CN;
  if (typeof cn !== 'string' || cn !== role || !isRoleName(role)) return undefined;
  return role;
}

/** Whether `role` matches one of `patterns` (undefined: any role the CA certified). */
export function roleAllowed(role: string, patterns: readonly string[] | undefined): boolean {
  return patterns === undefined || patterns.some((p) => matchesRole(role, p));
}
