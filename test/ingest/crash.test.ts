import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { generateSeedEvents } from "../../src/ingest/seed";
import { createTestDatabase } from "../support/harness";
import { digestState, queryRows, writeNdjson } from "./support";

/**
 * Crash safety (issue 5): `ingest FILE` killed with SIGKILL mid-file and run again ends in the state
 * of one clean run (flags, transitions, histories; compared by content), with no duplicate
 * transition. Runs the real CLI on the compiled code (`npm test` builds dist first).
 */
const ROOT = path.resolve(__dirname, "../..");
const BIN = path.join(ROOT, "bin/smi-gateway.js");

function startIngest(
  url: string,
  file: string,
  rejects: string,
): { child: ChildProcess; done: Promise<number | null>; stdout(): string } {
  const child = spawn(process.execPath, [BIN, "ingest", file, "--batch-size", "400", "--rejects", rejects], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: "silent", NODE_ENV: "test" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      if (code !== 0 && code !== null) console.error(stderr);
      resolve(code);
    }),
  );
  return { child, done, stdout: () => stdout };
}

const appliedCount = async (url: string) =>
  Number((await queryRows<{ n: string }>(url, "SELECT count(*)::text AS n FROM applied_event"))[0]!.n);

describe("ingest killed mid-file", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "smi-crash-test-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("converges on a rerun to the state of one clean run, with no duplicate transition", async () => {
    const file = path.join(dir, "events.ndjson");
    const events: (string | Record<string, string>)[] = [
      ...generateSeedEvents({ meterPoints: 5000, prefix: "crash" }),
    ];
    // A few bad lines along the file: rejected in both runs, never fatal.
    events.splice(1000, 0, "{ not json");
    events.splice(15000, 0, {
      eventId: "bad-mpan",
      occurredAt: "2026-01-01T00:00:00Z",
      type: "MeterPointRegistered",
      mpxn: "1312345678900",
    });
    const total = events.length - 2;
    await writeNdjson(file, events);

    const clean = await createTestDatabase();
    const crashed = await createTestDatabase();
    try {
      const c = startIngest(clean.url, file, path.join(dir, "clean-rejects.ndjson"));
      expect(await c.done).toBe(0);
      expect(await appliedCount(clean.url)).toBe(total);

      // Kill once a few batches have committed, well before the end.
      const k = startIngest(crashed.url, file, path.join(dir, "crash-rejects-1.ndjson"));
      let committed = 0;
      while (committed < 4000) {
        await new Promise((r) => setTimeout(r, 20));
        committed = await appliedCount(crashed.url);
      }
      k.child.kill("SIGKILL");
      expect(await k.done).toBeNull();
      const atKill = await appliedCount(crashed.url);
      expect(atKill).toBeLessThan(total); // really mid-file

      const r = startIngest(crashed.url, file, path.join(dir, "crash-rejects-2.ndjson"));
      expect(await r.done).toBe(0);
      const summary = JSON.parse(r.stdout().trim().split("\n").pop()!) as Record<string, unknown>;
      expect(summary).toMatchObject({ duplicates: atKill, applied: total - atKill, rejected: 2 });

      expect(await digestState(crashed.url)).toEqual(await digestState(clean.url));
      const dup = await queryRows(
        crashed.url,
        `SELECT mpxn, cause_event_id, count(*) FROM service_flag_transition
          GROUP BY mpxn, cause_event_id HAVING count(*) > 1`,
      );
      expect(dup).toEqual([]);
      expect(readFileSync(path.join(dir, "crash-rejects-2.ndjson"), "utf8")).toBe(
        readFileSync(path.join(dir, "clean-rejects.ndjson"), "utf8"),
      );
    } finally {
      await clean.drop();
      await crashed.drop();
    }
  });
});
