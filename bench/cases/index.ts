// Every case of the engine suite, in the order the table prints them.
import type { BenchCase } from '../lib/types.js';
import { cases as modPow } from './modpow.js';
import { cases as packing } from './packing.js';
import { cases as paillier } from './paillier.js';

export const cases: readonly BenchCase[] = [...paillier, ...packing, ...modPow];
