// B's grouping of one run's decrypted tags (DESIGN §3.2): a group number for each tag whose
// point the other side also has, NO_GROUP for the others, and the join's size counted from
// the same tally (pairs of equal points across the sides), which is the count B releases.
import { describe, expect, it } from 'vitest';
import { groupTags } from '../../src/join/hashed.js';
import { NO_GROUP } from '../../src/protocol/messages.js';

/** Decrypted tags of one word each: grouping compares words only, so any word stands for a point. */
const batch = (...points: number[]) => ({ words: 1, count: points.length, data: Uint32Array.from(points) });

describe('groupTags', () => {
  it('numbers the groups with members on both sides and counts their pairs, across batches', () => {
    const { groups, joined } = groupTags([batch(7, 8), batch(7, 9)], [batch(8, 7, 5), batch(7)]);
    expect([...groups]).toEqual([0, 1, 0, NO_GROUP, 1, 0, NO_GROUP, 0]);
    // 7: two left x two right; 8: one x one
    expect(joined).toBe(5);
  });

  it('counts no pair when no point is on both sides', () => {
    const { groups, joined } = groupTags([batch(1, 1)], [batch(2)]);
    expect([...groups]).toEqual([NO_GROUP, NO_GROUP, NO_GROUP]);
    expect(joined).toBe(0);
  });
});
