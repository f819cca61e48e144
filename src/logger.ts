import { hostname } from "node:os";
import pino, { type DestinationStream, type Logger } from "pino";
import { logMixin } from "./observability/requestScope";

export type { Logger };

/**
 * Structured JSON logs on stdout (stderr for CLI commands whose stdout is their output; any stream in
 * tests). Keys and secrets are redacted. Inside an HTTP request every line carries its `requestId`.
 */
export function createLogger(level: string, destination: 1 | 2 | DestinationStream = 1): Logger {
  return pino(
    {
      level,
      base: { service: "smi-gateway", host: hostname(), pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: logMixin,
      redact: {
        paths: [
          "req.headers.authorization",
          "authorization",
          "*.authorization",
          "apiKey",
          "*.apiKey",
          "password",
          "*.password",
          "headers.authorization",
          "*.headers.authorization",
          "headers.cookie",
          "*.headers.cookie",
          "secret",
          "*.secret",
          "token",
          "*.token",
          // Connection strings carry the database password.
          "DATABASE_URL",
          "*.DATABASE_URL",
          "READ_REPLICA_URLS",
          "*.READ_REPLICA_URLS",
          "databaseUrl",
          "*.databaseUrl",
          "connectionString",
          "*.connectionString",
        ],
        censor: "[redacted]",
      },
    },
    typeof destination === "number"
      ? pino.destination({ fd: destination, sync: destination === 2 })
      : destination,
  );
}
