/**
 * A setting that cannot work (a bad flag, file or environment value): the CLI prints its message
 * as it is, without a stack. Its own module, so the CLI can recognise it without loading the
 * configuration schemas.
 */
export class ConfigError extends Error {}
