import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { Client } from "pg";
import { type App } from "../../src/app";
import { exportFlows, type ExportFlowsOptions } from "../../src/flows/exportFlows";
import { FlowStore } from "../../src/persistence/flowStore";
import { Story, apply, dev, mpan, mprn, openFlowsApp } from "./flowEvents";
import { scratchDirs } from "../support/harness";

const T0 = "2026-03-02T10:00:00Z";
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
const newDir = scratchDirs("smi-flows-");
const filesIn = (dir: string) => readdirSync(dir).sort();
/** The group records of a D0350 (or E46 records) as [mpxn, flag, date]. */
const bodyOf = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("DSF|") || l.startsWith("E46,"))
    .map((l) => l.split(/[|,]/).slice(1, 4));

describe("export-flows (SPEC §7)", () => {
  let t: Awaited<ReturnType<typeof openFlowsApp>>;
  let app: App;
  const run = (outDir: string, extra: Partial<ExportFlowsOptions> = {}) =>
    exportFlows(new FlowStore(app.ds), { outDir, maxRecords: null, d0350GroupId: "DSF", ...extra });

  beforeEach(async () => {
    t = await openFlowsApp();
    app = t.app;
  });
  afterEach(async () => t.close());

  it("writes one file per network operator with one record per MPxN carrying its latest flag", async () => {
    const s = new Story("a");
    const eelc1 = mpan(10, 1);
    const eelc2 = mpan(10, 2);
    const lond = mpan(12, 1);
    const gas = mprn(5);
    await apply(app, [
      // null → I → A within one window: one record, A, dated by the A transition.
      ...s.meterPointWith(eelc1, dev(1), "InstalledNotCommissioned", at(0)),
      s.status(dev(1), "Commissioned", "2026-03-05T12:00:00Z"),
      ...s.meterPointWith(eelc2, dev(2), "InstalledNotCommissioned", at(1)),
      ...s.meterPointWith(lond, dev(3), "Commissioned", at(2)),
      ...s.meterPointWith(gas, dev(4), "Commissioned", at(3), "NGN"),
      // Pending only: its flag stays null, and null is never sent.
      ...s.meterPointWith(mpan(10, 3), dev(5), "Pending", at(4)),
    ]);
    const dir = newDir();
    const r = await run(dir);

    expect(filesIn(dir)).toEqual([
      "D0350_EELC_00000001.txt",
      "D0350_LOND_00000001.txt",
      "E46_NGN_00000001.csv",
    ]);
    expect(r.records).toBe(4);
    expect(bodyOf(path.join(dir, "D0350_EELC_00000001.txt"))).toEqual([
      [eelc1, "A", "20260305"],
      [eelc2, "I", "20260302"],
    ]);
    expect(bodyOf(path.join(dir, "D0350_LOND_00000001.txt"))).toEqual([[lond, "A", "20260302"]]);
    expect(bodyOf(path.join(dir, "E46_NGN_00000001.csv"))).toEqual([[gas, "A", "20260302"]]);
    const eelc = readFileSync(path.join(dir, "D0350_EELC_00000001.txt"), "utf8").split("\n");
    expect(eelc[0]).toMatch(/^ZHV\|1\|D0350001\|Z\|DCCO\|P\|EELC\|\d{14}\|\|\|\|OPER\|$/);
    expect(eelc[3]).toMatch(/^ZPT\|1\|2\|\|1\|\d{14}\|$/);
    expect(readFileSync(path.join(dir, "E46_NGN_00000001.csv"), "utf8")).toMatch(/\nZ99,1\n$/);
  });

  it("writes nothing when nothing changed since the last file", async () => {
    const s = new Story("b");
    await apply(app, s.meterPointWith(mpan(10, 1), dev(1), "Commissioned", at(0)));
    const first = newDir();
    expect((await run(first)).files).toHaveLength(1);
    const second = newDir();
    const r = await run(second);
    expect(r.files).toEqual([]);
    expect(filesIn(second)).toEqual([]);
  });

  it("sends no record for a meter point whose flag went back to the value last sent, and numbers files per recipient", async () => {
    const s = new Story("c");
    const back = mpan(10, 1);
    const moved = mpan(10, 2);
    const lond = mpan(12, 1);
    await apply(app, [
      ...s.meterPointWith(back, dev(1), "Commissioned", at(0)),
      ...s.meterPointWith(moved, dev(2), "Commissioned", at(1)),
      ...s.meterPointWith(lond, dev(3), "Commissioned", at(2)),
    ]);
    await run(newDir());
    // back: A → N → A (meter removed, a new one commissioned); moved: A → N.
    await apply(app, [
      s.status(dev(1), "Decommissioned", at(10)),
      s.device(dev(11), "ESME", at(11)),
      s.associate(dev(11), back, at(11)),
      s.status(dev(11), "Commissioned", at(12)),
      s.status(dev(2), "Decommissioned", at(13)),
    ]);
    const dir = newDir();
    await run(dir);
    expect(filesIn(dir)).toEqual(["D0350_EELC_00000002.txt"]);
    expect(bodyOf(path.join(dir, "D0350_EELC_00000002.txt"))).toEqual([[moved, "N", "20260302"]]);

    // Only `back` changes again (A → N): EELC's next file is 3; LOND had nothing, still at 1.
    await apply(app, [s.status(dev(11), "Decommissioned", at(20))]);
    const third = newDir();
    await run(third);
    expect(filesIn(third)).toEqual(["D0350_EELC_00000003.txt"]);
    expect(bodyOf(path.join(third, "D0350_EELC_00000003.txt"))).toEqual([[back, "N", "20260302"]]);
    const ids = await app.ds.query(
      `SELECT network_operator, file_id FROM flow_file ORDER BY network_operator, file_id`,
    );
    expect(ids).toEqual([
      { network_operator: "EELC", file_id: 1 },
      { network_operator: "EELC", file_id: 2 },
      { network_operator: "EELC", file_id: 3 },
      { network_operator: "LOND", file_id: 1 },
    ]);
  });

  it("splits by --max-records into sequential files, each MPxN exactly once", async () => {
    const s = new Story("d");
    const mpans = [1, 2, 3, 4, 5].map((n) => mpan(13, n));
    await apply(
      app,
      mpans.flatMap((m, i) => s.meterPointWith(m, dev(i + 1), "Commissioned", at(i))),
    );
    const dir = newDir();
    const r = await run(dir, { maxRecords: 2 });
    expect(r.files.map((f) => [f.fileId, f.recordCount])).toEqual([
      [1, 2],
      [2, 2],
      [3, 1],
    ]);
    expect(filesIn(dir)).toEqual([
      "D0350_MANW_00000001.txt",
      "D0350_MANW_00000002.txt",
      "D0350_MANW_00000003.txt",
    ]);
    const all = filesIn(dir).flatMap((f) => bodyOf(path.join(dir, f)).map((rec) => rec[0]));
    expect(all).toEqual([...mpans].sort());
    for (const [i, f] of filesIn(dir).entries()) {
      const lines = readFileSync(path.join(dir, f), "utf8").trimEnd().split("\n");
      expect(lines[0]).toContain(`ZHV|${i + 1}|`);
      expect(lines.at(-1)).toMatch(new RegExp(`^ZPT\\|${i + 1}\\|${i < 2 ? 2 : 1}\\|`));
    }
  });

  it("dates a change at 23:30 UTC in summer by the next day (BST midnight boundary)", async () => {
    const s = new Story("e");
    await apply(app, [
      ...s.meterPointWith(mpan(10, 1), dev(1), "Commissioned", "2026-06-30T22:59:59Z"),
      ...s.meterPointWith(mpan(10, 2), dev(2), "Commissioned", "2026-06-30T23:30:00Z"),
      // Winter: midnight is midnight UTC.
      ...s.meterPointWith(mpan(10, 3), dev(3), "Commissioned", "2026-12-31T23:30:00Z"),
    ]);
    const dir = newDir();
    await run(dir);
    expect(bodyOf(path.join(dir, "D0350_EELC_00000001.txt"))).toEqual([
      [mpan(10, 1), "A", "20260630"],
      [mpan(10, 2), "A", "20260701"],
      [mpan(10, 3), "A", "20261231"],
    ]);
  });

  it("waits for a transaction holding an earlier sequence, so its change is not skipped", async () => {
    const s = new Story("f");
    const early = mpan(10, 1);
    await apply(app, [s.register(early, at(0))]);
    // A writer that drew its sequence first and commits last (what inventoryStore does, by hand).
    const writer = new Client({ connectionString: t.url });
    await writer.connect();
    try {
      await writer.query("BEGIN");
      await writer.query("SELECT pg_current_xact_id()");
      const seqRows = await writer.query<{ s: string }>(
        `SELECT nextval('service_flag_transition_sequence_seq')::text AS s`,
      );
      const held = seqRows.rows[0]!.s;
      await apply(app, s.meterPointWith(mpan(10, 2), dev(2), "Commissioned", at(1)));
      const dir = newDir();
      const exporting = run(dir);
      await new Promise((r) => setTimeout(r, 200));
      await writer.query(
        `INSERT INTO service_flag_transition (sequence, mpxn, fuel, network_operator, supplier, from_flag, to_flag, rule,
           contributing_device_ids, effective_at, cause_event_id)
         VALUES ($1, $2, 'ELECTRICITY', 'EELC', 'EDFE', NULL, 'I', 'ANY_INSTALLED_NOT_COMMISSIONED', '{}', $3, 'held')`,
        [held, early, at(0)],
      );
      await writer.query("COMMIT");
      await exporting;
      expect(bodyOf(path.join(dir, "D0350_EELC_00000001.txt"))).toEqual([
        [early, "I", "20260302"],
        [mpan(10, 2), "A", "20260302"],
      ]);
    } finally {
      await writer.end();
    }
  });
});
