import { type Logger, pino } from 'pino'

/**
 * The node's structured logger. Keys never reach it (config values are logged field by field, never
 * whole); the redaction list is a second line of defence.
 */
export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'sce-sequencer' },
    redact: {
      paths: ['operatorPrivateKey', '*.operatorPrivateKey', 'privateKey', '*.privateKey'],
      censor: '[redacted]',
    },
  }
  return destination === undefined ? pino(options) : pino(options, destination)
}
