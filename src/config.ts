import { z } from "zod";

/**
 * Configuration: read from the environment once, validated, frozen. A bad value stops start-up with
 * a message naming the variable, what was expected and what was received.
 */
const bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const port = z.coerce.number().int().min(0).max(65535);

const commaList = (s: string): string[] =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "expected a postgres:// or postgresql:// URL")
    .optional(),
  READ_REPLICA_URLS: z
    .string()
    .default("")
    .transform(commaList)
    .pipe(z.array(z.string().regex(/^postgres(ql)?:\/\//, "expected comma-separated postgres:// URLs"))),
  PORT: port.default(4000),
  HOST: z.string().default("0.0.0.0"),
  DATA_DIR: z.string().default(".data"),
  EMBEDDED_PG_PORT: port.default(54329),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(20),
  WHITELISTED_POLICY: z.enum(["I", "IGNORE"]).default("I"),
  /** Independent distribution networks: `24:IPNL,25:ESTN` (distributor id → MPAS id). */
  EXTRA_DISTRIBUTORS: z
    .string()
    .default("")
    .transform((s, ctx) => {
      const out: Record<string, string> = {};
      for (const pair of s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean)) {
        const m = /^(\d{2}):([A-Z0-9]{4})$/.exec(pair);
        if (!m) {
          ctx.addIssue({
            code: "custom",
            message: `expected comma-separated pairs like 24:IPNL (distributor id:MPAS id), not ${JSON.stringify(pair)}`,
          });
          return z.NEVER;
        }
        out[m[1]!] = m[2]!;
      }
      return out;
    }),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  INGEST_BATCH_SIZE: z.coerce.number().int().min(1).max(100000).default(20000),
  D0350_GROUP_ID: z
    .string()
    .regex(/^[A-Z0-9]{3}$/, "expected a three-character DTC group id such as DSF")
    .default("DSF"),
  INTROSPECTION: bool.optional(),
  /** How long a key look-up is cached in process; a revoked key stops working within this (0: no cache). */
  AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60000).default(5000),
  /** Per-key rate limit: RATE_LIMIT_POINTS requests per RATE_LIMIT_WINDOW_SECONDS (0 points: off). */
  RATE_LIMIT_POINTS: z.coerce.number().int().min(0).default(20000),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86400).default(10),
  /** Depth and cost limits of every operation (HTTP and WebSocket). */
  MAX_QUERY_DEPTH: z.coerce.number().int().min(2).max(100).default(12),
  MAX_QUERY_COST: z.coerce.number().int().min(10).default(200000),
  /** Largest accepted request body, in bytes. */
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1048576),
  /**
   * Browser origins allowed to open the subscription WebSocket (comma-separated, `*` for any). An
   * upgrade without an Origin header (a non-browser client) is always allowed.
   */
  WS_ALLOWED_ORIGINS: z.string().default("").transform(commaList),
  /** Transitions that may wait for one slow subscriber; past it the subscription ends (it can resume). */
  SUBSCRIPTION_QUEUE_LIMIT: z.coerce.number().int().min(1).max(1000000).default(10000),
  /** The subscription feed's poll besides LISTEN/NOTIFY, in ms (a lost wake-up delays by at most this). */
  SUBSCRIPTION_POLL_MS: z.coerce.number().int().min(10).max(60000).default(500),
  LOAD_DEMO: bool.optional(),
});

export type Config = Readonly<z.output<typeof schema>> & { readonly production: boolean };

/** The name of every variable read (the README's configuration table lists each). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

export class ConfigError extends Error {}

/** `scheme://user:secret@host` → `scheme://user:***@host`: error messages must not print passwords. */
const hidePasswords = (v: string) => v.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, "$1***@");

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      // The variable is the first path element; a further one is an item of a list variable.
      const name = String(i.path[0]);
      const item = typeof i.path[1] === "number" ? ` (item ${i.path[1] + 1})` : "";
      const got = name in input ? JSON.stringify(hidePasswords(input[name]!)) : "nothing";
      return `  ${name}${item}: ${i.message}; got ${got}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  return Object.freeze({ ...parsed.data, production: parsed.data.NODE_ENV === "production" });
}
