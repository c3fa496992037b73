// Entry of the bundled headless runner (.gpubundle/lrpet.mjs, scripts/gpu/bundle.mjs): bin/lrpet.mjs
// without tsx, for the lent GPU machine, which has no node_modules.
import { main } from '../../src/cli/main';

process.exitCode = await main(process.argv.slice(2));
