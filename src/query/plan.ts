// The query plan: what src/query/sql.ts makes of an SQL string, and what crosses the
// wire in a query message. One zod schema is both the wire check and the TS type, so
// the plan is typed once.
import { z } from 'zod';

const name = z.string().min(1).max(128);

export const columnRefSchema = z.object({ table: name, column: name });

export const selectItemSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('column'), table: name, column: name }),
  z.object({ kind: z.literal('count') }),
  z.object({ kind: z.enum(['sum', 'avg']), table: name, column: name }),
]);

export const queryPlanSchema = z.object({
  tables: z.tuple([z.object({ name, alias: name }), z.object({ name, alias: name })]),
  /** every key's `left` is a column of the first table */
  joinKeys: z
    .array(z.object({ left: columnRefSchema, right: columnRefSchema }))
    .min(1)
    .max(16),
  select: z.array(selectItemSchema).min(1).max(256),
});

export type Query = z.infer<typeof queryPlanSchema>;
export type TableRef = Query['tables'][number];
export type ColumnRef = z.infer<typeof columnRefSchema>;
export type JoinKey = Query['joinKeys'][number];
export type SelectItem = z.infer<typeof selectItemSchema>;
