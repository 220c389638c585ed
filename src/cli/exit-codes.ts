// The command line's exit codes, one home for program.ts and every subcommand.
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** Unknown command or option, missing or bad value. */
export const EXIT_USAGE = 2;
