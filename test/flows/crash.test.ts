import { execFile } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { CRASH_EXIT_CODE } from "../../src/cli/flows";
import { Story, apply, dev, mpan, openFlowsApp } from "./flowEvents";
import { scratchDirs } from "../support/harness";

const BIN = path.resolve(__dirname, "../../bin/smi-gateway.js");

/** Runs the real CLI (compiled, in its own process) against the test database. */
function cli(args: string[], databaseUrl: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: "silent", NODE_ENV: "test" } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const snapshot = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(path.join(dir, f))]),
  );

describe("export-flows crash safety (SPEC §7)", () => {
  const newDir = scratchDirs("smi-crash-");
  let t: Awaited<ReturnType<typeof openFlowsApp>>;
  beforeAll(async () => {
    t = await openFlowsApp();
  });
  afterAll(async () => t.close());

  it("rewrites the same files, byte for byte, after a crash between writing and recording", async () => {
    const s = new Story("crash");
    const mpans = [1, 2, 3, 4, 5].map((n) => mpan(10, n));
    await apply(
      t.app,
      mpans.flatMap((m, i) => s.meterPointWith(m, dev(i + 1), "Commissioned", "2026-04-01T10:00:00Z")),
    );
    const dir = newDir();

    const crashed = await cli(
      ["export-flows", "--out", dir, "--max-records", "2", "--crash-after-write", "1"],
      t.url,
    );
    expect(crashed.code).toBe(CRASH_EXIT_CODE);
    // The first file is whole on disk (atomic rename), nothing is recorded as sent.
    const afterCrash = snapshot(dir);
    expect(Object.keys(afterCrash)).toEqual(["D0350_EELC_00000001.txt"]);
    const unsent = await t.app.ds.query(
      `SELECT file_id FROM flow_file WHERE sent_at IS NULL ORDER BY file_id`,
    );
    expect(unsent).toEqual([{ file_id: 1 }, { file_id: 2 }, { file_id: 3 }]);

    // The rerun waits a second so a fresh timestamp would show in the header if one were taken.
    await new Promise((r) => setTimeout(r, 1100));
    const rerun = await cli(["export-flows", "--out", dir], t.url);
    expect(rerun.code).toBe(0);
    const summary = JSON.parse(rerun.stdout.trim().split("\n").at(-1)!) as {
      files: { fileId: number; records: number; rewritten: boolean }[];
    };
    expect(summary.files).toEqual([
      expect.objectContaining({ fileId: 1, records: 2, rewritten: true }),
      expect.objectContaining({ fileId: 2, records: 2, rewritten: true }),
      expect.objectContaining({ fileId: 3, records: 1, rewritten: true }),
    ]);
    const afterRerun = snapshot(dir);
    expect(afterRerun["D0350_EELC_00000001.txt"]).toEqual(afterCrash["D0350_EELC_00000001.txt"]);
    expect(Object.keys(afterRerun)).toEqual([
      "D0350_EELC_00000001.txt",
      "D0350_EELC_00000002.txt",
      "D0350_EELC_00000003.txt",
    ]);
    // Every MPAN exactly once across the files: none lost, none duplicated.
    const sent = Object.values(afterRerun)
      .flatMap((b) => b.toString("utf8").split("\n"))
      .filter((l) => l.startsWith("DSF|"))
      .map((l) => l.split("|")[1]);
    expect(sent).toEqual([...mpans].sort());

    // A third run has nothing to send and writes nothing.
    const third = await cli(["export-flows", "--out", dir], t.url);
    expect(third.code).toBe(0);
    expect(JSON.parse(third.stdout.trim().split("\n").at(-1)!)).toMatchObject({ files: [], records: 0 });
    expect(Object.keys(snapshot(dir))).toHaveLength(3);
  });
});
