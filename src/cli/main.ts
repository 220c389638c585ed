// Entry of the `fedjoin` bin (bin/fedjoin.js imports this file): runs the command line on
// process.argv and sets the exit code. The program itself is in program.ts.
import { run } from './program.js';

process.exitCode = await run(process.argv.slice(2));
