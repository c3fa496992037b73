export const PYTHON_ENV: 'LRPET_PYTHON';
export const SYSTEM_PYTHON: '/usr/bin/python3';
export function referencePython(env?: NodeJS.ProcessEnv, exists?: (path: string) => boolean): { path: string; rule: string };
