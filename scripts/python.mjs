// Which python3 the float64/torch reference tests use — one rule, shared by the system check
// (scripts/check-system.mjs) and the test bridges (src/node/numpy-ref.ts): $LRPET_PYTHON if set,
// else Debian's /usr/bin/python3 (where apt puts python3-numpy and python3-torch), else python3 on PATH.
import { existsSync } from 'node:fs';

export const PYTHON_ENV = 'LRPET_PYTHON';
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** { path, rule }: rule says why (for messages). */
export function referencePython(env = process.env, exists = existsSync) {
  if (env[PYTHON_ENV]) return { path: env[PYTHON_ENV], rule: `$${PYTHON_ENV}` };
  if (exists(SYSTEM_PYTHON)) return { path: SYSTEM_PYTHON, rule: SYSTEM_PYTHON };
  return { path: 'python3', rule: `python3 on PATH (${SYSTEM_PYTHON} does not exist)` };
}
