import { z } from 'zod';

// zod compiles fast parsers with `new Function` when it can; under the page's CSP (no 'unsafe-eval')
// even its probe shows up as a CSP violation. Import this module first, before any schema is used.
z.config({ jitless: true });
