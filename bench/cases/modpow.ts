// Raw modPow (issue 2 item 6): base^e mod M for a random odd M of the stated size, one
// exponent per base, beside fedjoin's plain-BigInt reference (modPowBig) and gmp-wasm's
// mpz_powm. Targets: >= 2x plain BigInt and faster than gmp-wasm at (4096, 2048) and
// (2048, 1024).
import { modPowBig } from '../../src/engine/modular.js';
import { exactBits, uniform } from '../lib/fixture.js';
import { BATCHES, type BenchCase, defineCase, type Impl, ROTATION } from '../lib/types.js';

type Input = { base: readonly bigint[]; e: readonly bigint[] };

function modPowCase(modulusBits: number, exponentBits: number): BenchCase {
  return defineCase<Input>({
    id: `modPow.${modulusBits}.e${exponentBits}`,
    title: `modPow, ${modulusBits}-bit odd modulus, ${exponentBits}-bit exponents`,
    batches: BATCHES,
    async setup(fx) {
      const [modulus] = exactBits(modulusBits, 1, true);
      const values = { base: uniform(modulus, ROTATION), e: exactBits(exponentBits, ROTATION) };
      const impls: Impl<Input>[] = [
        {
          label: 'fedjoin-wasm',
          family: 'fedjoin-wasm',
          wasm: true,
          async: true,
          run: (input) => fx.wasm.modPow(input.base, input.e, modulus),
        },
        {
          label: 'fedjoin-bigint',
          family: 'fedjoin-bigint',
          wasm: false,
          async: true,
          run: (input) => fx.bigint.modPow(input.base, input.e, modulus),
        },
        {
          label: 'plain-bigint',
          family: 'plain-bigint',
          wasm: false,
          async: false,
          run: (input) => input.base.map((b, i) => modPowBig(b, input.e[i], modulus)),
          note: 'modPowBig: left-to-right square-and-multiply',
        },
      ];
      const gmp = fx.gmp;
      if (gmp) {
        impls.push({
          label: 'gmp-wasm',
          family: 'gmp-wasm',
          wasm: true,
          async: false,
          run: (input) => input.base.map((b, i) => gmp.powm(b, input.e[i], modulus)),
          note: 'mpz_powm, bigint converted in and out',
        });
      }
      return { values, impls };
    },
  });
}

export const cases: BenchCase[] = [modPowCase(4096, 2048), modPowCase(4096, 128), modPowCase(2048, 1024)];
