// What B holds after A delivers the features of a query's joined rows (DESIGN §4 step 5):
// decoded rows in the shuffled order received, with the column encodings they were
// decoded with. It never leaves B.
import type { Cell } from '../data/table.js';
import type { ColumnMeta } from './messages.js';

export interface FeatureSet {
  columns: ColumnMeta[];
  rows: Cell[][];
}
