// Who may send what to whom (DESIGN §1.1): for every role, the message types it accepts
// and the roles allowed to send each. The sender is the role the transport proves: over
// HTTPS the peer certificate's role, in-process the role a test or the federation wires.
// Every role checks this before it looks at a message, in-process and over HTTPS alike.
import { PeerAuthError } from '../errors.js';
import type { Message, MessageType } from './messages.js';

type Pattern = string;
const A = 'server-a';
const B = 'server-b';
const COORDINATOR = 'coordinator';
const CLIENTS: Pattern[] = ['client', 'client:*'];
const OWNERS: Pattern[] = ['owner:*'];

/** Receiving role kind -> message type -> the senders allowed. */
export const ACCEPTS: Record<string, Partial<Record<MessageType, readonly Pattern[]>>> = {
  [A]: {
    'encrypted-table': OWNERS,
    query: CLIENTS,
    'extract-features': [COORDINATOR],
  },
  [B]: {
    'owner-key': OWNERS,
    enrol: OWNERS,
    'table-registration': OWNERS,
    'query-submit': CLIENTS,
    'query-open': [A],
    'indicator-batch': [A],
    'tag-batch': [A],
    'feature-batch': [A],
    'aggregate-request': [A],
    'query-close': [A, ...CLIENTS],
    'round-open': [COORDINATOR],
    'train-round': [COORDINATOR],
    'aggregate-weights': [COORDINATOR],
  },
  [COORDINATOR]: { train: CLIENTS },
  client: { 'aggregate-result': [B] },
  owner: { 'stats-request': [COORDINATOR], 'local-train': [COORDINATOR] },
};

/** 'owner:hospital' -> 'owner', 'client:alice' -> 'client'. */
export function roleKind(role: string): string {
  const colon = role.indexOf(':');
  return colon < 0 ? role : role.slice(0, colon);
}

/** Whether `role` matches a pattern: an exact role, or '<kind>:*' for every role of a kind. */
export function matchesRole(role: string, pattern: Pattern): boolean {
  return pattern.endsWith(':*') ? role.startsWith(pattern.slice(0, -1)) : pattern === role;
}

/** Throws PeerAuthError unless `from` may send `message` to `receiver`. */
export function authorize(receiver: string, message: Message, from: string): void {
  const senders = ACCEPTS[roleKind(receiver)]?.[message.type];
  if (!senders) {
    throw new PeerAuthError(`${receiver} does not accept ${message.type} messages`, { type: message.type });
  }
  if (!senders.some((p) => matchesRole(from, p))) {
    throw new PeerAuthError(`${from} may not send ${message.type} to ${receiver}`, {
      from,
      type: message.type,
    });
  }
}

/** Every role that may call `receiver` at all: its HTTPS service's allowed peers. */
export function allowedCallers(receiver: string): Pattern[] {
  return [...new Set(Object.values(ACCEPTS[roleKind(receiver)] ?? {}).flat())];
}
