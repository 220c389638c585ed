// A federated-learning contribution (DESIGN §4 step 1-2, issue 5 item 2): an owner's
// local weights as the plaintext vector the coordinator can sum homomorphically into a
// per-coordinate weighted FedAvg. Layout, for d features in the global order plus bias:
//   [ w_0 s, ..., w_{d-1} s, b s,  s_0, ..., s_{d-1}, s_b ]
// where s is the owner's sample count and s_k = s when it holds coordinate k, else 0: a
// coordinate it lacks is absent (contributes to neither sum), not zero. Products are fixed
// point with WEIGHT_FRACTION_BITS, budgeted for MAX_CONTRIBUTIONS terms. Contributions are
// signed with Ed25519 over (round, nonce, owner, key fingerprint, features, the plaintext
// presence mask B counts contributors with, ciphertexts). B's own contributions (rounds 1+)
// are slot-packed (contributionLayouts); the owners' of round 0 keep one coordinate each.
import type { KeyObject } from 'node:crypto';
import { decodeInteger, decodeValue, encodeValue, toSigned } from '../data/fixed-point.js';
import { packSlots, planSlots, type SlotLayout, unpackSlots } from '../engine/slots.js';
import { signDigest, signedDigest, verifyDigest } from '../protocol/signature.js';

export const WEIGHT_FRACTION_BITS = 32;
/** Overflow budget: how many contributions one aggregate may sum. */
export const MAX_CONTRIBUTIONS = 1024;
/** A packed numerator |w s| 2^WEIGHT_FRACTION_BITS below 2^(32 + 64), a denominator s below 2^64. */
const NUMERATOR_BITS = WEIGHT_FRACTION_BITS + 64;
const DENOMINATOR_BITS = 64;

export interface LocalWeights {
  /** weight per global feature; ignored where `present` is false */
  weights: number[];
  bias: number;
  /** which global features the contributor holds */
  present: boolean[];
  /** rows it trained on */
  samples: number;
}

export interface GlobalWeights {
  weights: number[];
  bias: number;
}

/** The plaintext vector of one contribution (before encryption). */
export function encodeContribution(local: LocalWeights, n: bigint): bigint[] {
  const s = local.samples;
  const opts = { fractionBits: WEIGHT_FRACTION_BITS, terms: MAX_CONTRIBUTIONS };
  const numerators = local.weights.map((w, k) => (local.present[k] ? encodeValue(w * s, n, opts) : 0n));
  const denominators = local.present.map((p) => (p ? BigInt(s) : 0n));
  return [...numerators, encodeValue(local.bias * s, n, opts), ...denominators, BigInt(s)];
}

/**
 * The slot layouts of a packed contribution of d features: its 2(d + 1) coordinates in order,
 * with headroom for MAX_CONTRIBUTIONS summed vectors; a fixed rule, so B needs no word from
 * the coordinator to unpack an aggregate.
 */
export function contributionLayouts(n: bigint, d: number): SlotLayout[] {
  const bits = [
    ...new Array<number>(d + 1).fill(NUMERATOR_BITS),
    ...new Array<number>(d + 1).fill(DENOMINATOR_BITS),
  ];
  return planSlots(n, bits, { terms: MAX_CONTRIBUTIONS });
}

/** A contribution's plaintext vector (encodeContribution) packed: one plaintext per layout. */
export function packContribution(plain: readonly bigint[], n: bigint): bigint[] {
  let first = 0;
  return contributionLayouts(n, plain.length / 2 - 1).map((layout) => {
    const values = plain.slice(first, first + layout.valueBits.length).map((x) => toSigned(x, n));
    first += layout.valueBits.length;
    return packSlots(values, layout);
  });
}

/** The 2(d + 1) coordinates, as plaintexts in [0, n), of the sum of `summed` packed contributions. */
export function unpackContribution(
  packed: readonly bigint[],
  n: bigint,
  d: number,
  summed: number,
): bigint[] {
  return contributionLayouts(n, d).flatMap((layout, j) =>
    unpackSlots(packed[j], layout, summed).map((x) => (x < 0n ? n + x : x)),
  );
}

/**
 * Which coordinates a contribution trained, in the contribution's order: the d features, then
 * the bias (trained whenever the contributor had rows). Sent in the clear and signed, so that
 * B can count the contributors of each coordinate without decrypting anything.
 */
export function presenceMask(local: LocalWeights): boolean[] {
  return [...local.present, local.samples > 0];
}

/**
 * The coordinates (d features, then the bias) B may release from one aggregate (DESIGN §1.1,
 * issue 9 item 5): one that any owner contributed needs at least `minContributors` owner
 * contributions; one that only server B contributed is B's own fit. `withheld` lists those
 * some owners, but too few, contributed; a coordinate nobody contributed is unknown, neither.
 */
export function releasableCoordinates(
  masks: readonly { owner: boolean; present: readonly boolean[] }[],
  minContributors: number,
): { release: boolean[]; withheld: number[] } {
  const width = masks[0]?.present.length ?? 0;
  const release: boolean[] = [];
  const withheld: number[] = [];
  for (let k = 0; k < width; k++) {
    const owners = masks.filter((m) => m.owner && m.present[k]).length;
    const others = masks.some((m) => !m.owner && m.present[k]);
    release.push(owners >= minContributors || (owners === 0 && others));
    if (owners > 0 && owners < minContributors) withheld.push(k);
  }
  return { release, withheld };
}

/**
 * The FedAvg weights from a decrypted aggregate: numerator / denominator per coordinate. A
 * coordinate B did not decrypt (undefined: withheld or unknown) or that no contributor holds
 * keeps `fallback` (the previous global weight, or 0).
 */
export function decodeAggregate(
  plain: readonly (bigint | undefined)[],
  n: bigint,
  fallback?: GlobalWeights,
): GlobalWeights {
  const d = plain.length / 2 - 1;
  const value = (k: number) => {
    const num = plain[k];
    const den = plain[d + 1 + k];
    const previous = k === d ? (fallback?.bias ?? 0) : (fallback?.weights[k] ?? 0);
    if (num === undefined || den === undefined) return previous;
    const samples = Number(decodeInteger(den, n, 0));
    return samples > 0 ? decodeValue(num, n, WEIGHT_FRACTION_BITS) / samples : previous;
  };
  return { weights: Array.from({ length: d }, (_, k) => value(k)), bias: value(d) };
}

export interface SignedFields {
  round: number;
  nonce: string;
  owner: string;
  fingerprint: string;
  features: readonly string[];
  /** presenceMask of the contribution: d + 1 entries */
  present: readonly boolean[];
  data: Uint32Array;
}

/** The digest an owner signs: every field, bound to the ciphertexts. */
export function contributionDigest(f: SignedFields): Buffer {
  const fields = [f.round, f.nonce, f.owner, f.fingerprint, f.features, f.present];
  return signedDigest('fedjoin/contribution/v2', fields, f.data);
}

export function signContribution(fields: SignedFields, privateKey: KeyObject): string {
  return signDigest(contributionDigest(fields), privateKey);
}

export function verifyContribution(fields: SignedFields, signature: string, publicKey: KeyObject): boolean {
  return verifyDigest(contributionDigest(fields), signature, publicKey);
}

/** What an owner signs to enrol in one training at the B whose key has `fingerprint` (issue 9 item 5). */
export interface Enrolment {
  trainingId: string;
  owner: string;
  fingerprint: string;
}

function enrolmentDigest(e: Enrolment): Buffer {
  return signedDigest('fedjoin/enrol/v1', [e.trainingId, e.owner, e.fingerprint]);
}

export function signEnrolment(enrolment: Enrolment, privateKey: KeyObject): string {
  return signDigest(enrolmentDigest(enrolment), privateKey);
}

export function verifyEnrolment(enrolment: Enrolment, signature: string, publicKey: KeyObject): boolean {
  return verifyDigest(enrolmentDigest(enrolment), signature, publicKey);
}
