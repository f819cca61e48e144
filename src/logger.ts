import pino, { type Logger } from "pino";

export type { Logger };

/** Structured JSON logs on stdout (stderr for CLI commands whose stdout is their output). Keys and secrets are redacted. */
export function createLogger(level: string, destination: 1 | 2 = 1): Logger {
  return pino(
    {
      level,
      base: { service: "smi-gateway" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          "req.headers.authorization",
          "authorization",
          "*.authorization",
          "apiKey",
          "*.apiKey",
          "password",
          "*.password",
        ],
        censor: "[redacted]",
      },
    },
    pino.destination({ fd: destination, sync: destination === 2 }),
  );
}
