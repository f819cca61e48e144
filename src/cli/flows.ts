import { constants as fsConstants, createReadStream } from "node:fs";
import { access } from "node:fs/promises";
import { type Command, InvalidArgumentError, Option } from "commander";
import { type App } from "../app";
import { type Config } from "../config";
import { exportFlows } from "../flows/exportFlows";
import { reconcile } from "../flows/reconcile";
import { type Logger } from "../logger";
import { FlowStore } from "../persistence/flowStore";
import { createProgress } from "./progress";

/** Exit code of the injected crash (`--crash-after-write`): EX_SOFTWARE, distinct from 1 and 2. */
export const CRASH_EXIT_CODE = 70;

type WithApp = <T>(config: Config, log: Logger, fn: (app: App) => Promise<T>) => Promise<T>;

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected ${name} as a positive integer, got ${JSON.stringify(v)}`);
  return n;
};

/** `export-flows` and `reconcile` (SPEC §7): argv → a flows service call → a JSON summary. */
export function registerFlowCommands(program: Command, config: Config, log: Logger, withApp: WithApp): void {
  program
    .command("export-flows")
    .description(
      "write one D0350 (electricity) or E46 (gas) file per network operator with the flag changes since its last file",
    )
    .requiredOption("--out <dir>", "directory to write the files into")
    .option(
      "--max-records <n>",
      "split a recipient's changes into files of at most N records",
      positiveInt("--max-records"),
    )
    // Test seam: exit right after the Nth file is on disk and before it is recorded as sent.
    .addOption(new Option("--crash-after-write <n>").argParser(positiveInt("--crash-after-write")).hideHelp())
    .action(async (opts: { out: string; maxRecords?: number; crashAfterWrite?: number }) =>
      withApp(config, log, async (app) => {
        const progress = createProgress("export-flows");
        const started = Date.now();
        let written = 0;
        const s = await exportFlows(new FlowStore(app.ds), {
          outDir: opts.out,
          maxRecords: opts.maxRecords ?? null,
          d0350GroupId: config.D0350_GROUP_ID,
          onProgress: (n) => progress.update(n, "records written"),
          onFileWritten: (f) => {
            written++;
            if (opts.crashAfterWrite === written) {
              console.error(`crash injected after writing ${f.fileName}, before recording it as sent`);
              process.exit(CRASH_EXIT_CODE);
            }
          },
        });
        progress.stop();
        const secs = (Date.now() - started) / 1000;
        console.log(
          JSON.stringify({
            horizon: s.horizon,
            files: s.files.map((f) => ({
              recipient: f.recipient,
              flow: f.flow,
              fileId: f.fileId,
              file: f.fileName,
              records: f.recordCount,
              rewritten: f.rewritten,
            })),
            records: s.records,
            unroutableTransitions: s.unroutable,
            seconds: Number(secs.toFixed(2)),
          }),
        );
      }),
    );

  program
    .command("reconcile")
    .description(
      "compare a registration system's flags (mpxn,flag CSV) with the derived flags; write mismatches and corrections",
    )
    .argument(
      "<file>",
      "CSV of mpxn,flag (flag blank, A, I, N, S or W; optional header line), or - for stdin",
    )
    .option(
      "--out <dir>",
      "directory for summary.json, mismatches.csv, issues.csv and the corrections files",
      "reconcile-out",
    )
    .option("--file-id <id>", "file id in the corrections files' headers", "RECON")
    .action(async (file: string, opts: { out: string; fileId: string }) =>
      withApp(config, log, async (app) => {
        // A missing or unreadable file is a one-line error (exit 1), not a stream crash mid-run.
        if (file !== "-") await access(file, fsConstants.R_OK);
        const progress = createProgress("reconcile");
        const input = file === "-" ? process.stdin : createReadStream(file);
        const s = await reconcile(input, new FlowStore(app.ds), {
          outDir: opts.out,
          correctionsFileId: opts.fileId,
          d0350GroupId: config.D0350_GROUP_ID,
          now: new Date(),
          onProgress: (n) => progress.update(n, "lines"),
        });
        progress.stop();
        console.log(JSON.stringify(s));
      }),
    );
}
