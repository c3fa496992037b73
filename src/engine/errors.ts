/** A run or plan setting that cannot work; the message says what to change. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** What a caught value says: an Error's message, or the value as text. */
export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
