// JSON in which bigints (COUNT, integer SUM: exact, DESIGN §1.1 and issue 14) are exact
// JSON integers of any size. JSON.stringify has no raw numbers on Node 20, so each bigint
// becomes a marked string first and loses its quotes after. Readers that parse numbers as
// doubles must use a bigint-aware parser (Python's json module is one).
const BIGINT_MARK = '__fedjoin_bigint__';
const MARKED = new RegExp(`"${BIGINT_MARK}(-?\\d+)"`, 'g');

export function exactJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${BIGINT_MARK}${v}` : v), indent).replace(
    MARKED,
    '$1',
  );
}
