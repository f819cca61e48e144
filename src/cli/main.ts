import { constants as fsConstants } from "node:fs";
import { access } from "node:fs/promises";
import { Command, InvalidArgumentError } from "commander";
import { type App, openApp } from "../app";
import { ConfigError, type Config, loadConfig } from "../config";
import { ingestStream, openInput } from "../ingest/ingestStream";
import { seedInventory } from "../ingest/seedInventory";
import { createLogger, type Logger } from "../logger";
import { migrate } from "../persistence/dataSource";
import { registerFlowCommands } from "./flows";
import { registerKeyCommands } from "./keys";
import { createProgress } from "./progress";
import { runServe } from "./serve";

/** Exit codes: 0 success, 1 failure, 2 bad usage or configuration. */
export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2 } as const;

export class UsageError extends Error {}

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected ${name} as a positive integer, got ${JSON.stringify(v)}`);
  return n;
};

/** Runs a command with the app open, and closes it (pool, embedded server) whatever happens. */
export async function withApp<T>(config: Config, log: Logger, fn: (app: App) => Promise<T>): Promise<T> {
  const app = await openApp(config, log);
  // Ctrl-C during a long job: what is committed stays committed (each batch is a transaction, and a
  // rerun converges); close the pool and the embedded database we started, then exit 128+signal.
  const interrupt = (signal: NodeJS.Signals, code: number) => () => {
    log.warn({ signal }, "interrupted: committed batches are kept; rerun to continue");
    void app.close().finally(() => process.exit(code));
  };
  const onInt = interrupt("SIGINT", 130);
  const onTerm = interrupt("SIGTERM", 143);
  process.once("SIGINT", onInt);
  process.once("SIGTERM", onTerm);
  try {
    return await fn(app);
  } finally {
    process.removeListener("SIGINT", onInt);
    process.removeListener("SIGTERM", onTerm);
    await app.close();
  }
}

export function buildProgram(config: Config, log: Logger): Command {
  const program = new Command("smi-gateway")
    .description("GraphQL API over GB's smart metering inventory: MP077 DCC service flags")
    .showHelpAfterError()
    .exitOverride()
    .addHelpText(
      "after",
      `
Configuration comes from environment variables (DATABASE_URL, PORT, LOG_LEVEL, ...; see the README).
Without DATABASE_URL every command uses the embedded PostgreSQL under DATA_DIR (default .data).
Exit codes: 0 done, 1 the command failed, 2 bad usage or configuration, 130/143 interrupted.`,
    );

  program
    .command("serve")
    .description("run the GraphQL server (HTTP and WebSocket on PORT, path /graphql)")
    .option("--demo", "load the demo inventory even when DATABASE_URL is set (only into an empty database)")
    .action(async (opts: { demo?: boolean }) => runServe(config, log, { demo: opts.demo === true }));

  program
    .command("migrate")
    .description("apply pending database migrations, make the transition partitions ahead, and exit")
    .action(async () =>
      withApp(config, log, async (app) => {
        const done = await migrate(app.ds);
        console.log(done.length ? `applied ${done.join(", ")}` : "no pending migrations");
      }),
    );

  program
    .command("ingest")
    .description("apply an NDJSON file of SMI and registration events (use - for stdin)")
    .argument("<file>", "NDJSON file, one event per line, or - for stdin")
    .option("--rejects <file>", "write rejected lines here (line, eventId, code, message)", "rejects.ndjson")
    .option(
      "--batch-size <n>",
      "events per transaction",
      positiveInt("--batch-size"),
      config.INGEST_BATCH_SIZE,
    )
    .action(async (file: string, opts: { rejects: string; batchSize: number }) =>
      withApp(config, log, async (app) => {
        // A missing or unreadable file is a one-line error (exit 1), not a stream crash mid-run.
        if (file !== "-") await access(file, fsConstants.R_OK);
        const progress = createProgress("ingest");
        const started = Date.now();
        const s = await ingestStream(openInput(file), app.applier, {
          batchSize: opts.batchSize,
          rejectsPath: opts.rejects,
          onBatch: (sum) => progress.update(sum.lines, `applied ${sum.applied} rejected ${sum.rejected}`),
        });
        progress.stop();
        const secs = (Date.now() - started) / 1000;
        console.log(
          JSON.stringify({
            lines: s.lines,
            applied: s.applied,
            duplicates: s.duplicates,
            rejected: s.rejected,
            rejectedByCode: s.rejectedByCode,
            transitions: s.transitions,
            seconds: Number(secs.toFixed(2)),
            eventsPerSecond: Math.round(s.lines / Math.max(secs, 0.001)),
            rejectsFile: s.rejected > 0 ? opts.rejects : null,
          }),
        );
      }),
    );

  program
    .command("seed")
    .description("generate and apply a realistic synthetic inventory")
    .requiredOption("--meter-points <n>", "how many meter points", positiveInt("--meter-points"))
    .option("--seed <n>", "random seed (same seed, same inventory)", positiveInt("--seed"), 77)
    .option("--prefix <id>", "event id prefix (a different prefix adds a new population)", "seed")
    .action(async (opts: { meterPoints: number; seed: number; prefix: string }) =>
      withApp(config, log, async (app) => {
        const progress = createProgress("seed");
        const s = await seedInventory(
          app.applier,
          {
            meterPoints: opts.meterPoints,
            seed: opts.seed,
            prefix: opts.prefix,
            batchSize: config.INGEST_BATCH_SIZE,
          },
          (sum) => progress.update(sum.events, `transitions ${sum.transitions}`),
        );
        progress.stop();
        console.log(JSON.stringify(s));
      }),
    );
  registerFlowCommands(program, config, log, withApp);
  registerKeyCommands(program, config, log, withApp);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return EXIT.USAGE;
    }
    throw e;
  }
  const serving = argv[2] === "serve";
  const log = createLogger(config.LOG_LEVEL, serving ? 1 : 2);
  const program = buildProgram(config, log);
  try {
    await program.parseAsync(argv);
    return EXIT.OK;
  } catch (e) {
    const ce = e as { code?: string; exitCode?: number };
    if (typeof ce.code === "string" && ce.code.startsWith("commander.")) {
      return ce.code === "commander.helpDisplayed" || ce.code === "commander.version" ? EXIT.OK : EXIT.USAGE;
    }
    if (e instanceof UsageError) {
      console.error(e.message);
      return EXIT.USAGE;
    }
    log.error({ err: e }, "command failed");
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.FAILURE;
  }
}
