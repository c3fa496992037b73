/** A run or plan setting that cannot work; the message says what to change. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
