import path from "node:path";
import { ingestStream, openInput } from "../../src/ingest/ingestStream";
import { generateSeedEvents } from "../../src/ingest/seed";
import { openAppOn, scratchDirs } from "../support/harness";
import { digestState, openTestApp, queryRows, writeNdjson } from "./support";

/**
 * An initial load spread over several `ingest` runs at once (docs/scaling.md): input split into
 * groups that share no device and no meter point, one file per group, all ingested at the same time
 * by separate appliers (as separate processes would), ends in the state of one sequential ingest of
 * the whole input. Only the feed's interleaving across meter points may differ.
 */
describe("ingest of disjoint files at once", () => {
  const scratchDir = scratchDirs("smi-parallel-test-");

  it("converges on the state of one sequential ingest", async () => {
    const dir = scratchDir();
    // The seed numbers its events `<prefix>-<meter point ordinal>-<n>`, and every meter point's
    // events (its devices, their associations, its export MPAN) carry its ordinal: a group each.
    const events = [...generateSeedEvents({ meterPoints: 3000, prefix: "split" })];
    const groupOf = (e: Record<string, string>) => Number(e.eventId!.split("-")[1]) % 3;
    const whole = path.join(dir, "whole.ndjson");
    await writeNdjson(whole, events);
    const parts = [0, 1, 2].map((g) => path.join(dir, `part-${g}.ndjson`));
    for (const [g, file] of parts.entries())
      await writeNdjson(
        file,
        events.filter((e) => groupOf(e) === g),
      );

    const sequential = await openTestApp();
    const parallel = await openTestApp();
    // Two more appliers on the same database, each with its own pool, as other processes would have.
    const others = await Promise.all([1, 2].map(() => openAppOn(parallel.url)));
    try {
      const s = await ingestStream(openInput(whole), sequential.app.applier, { batchSize: 500 });
      expect(s).toMatchObject({ applied: events.length, rejected: 0 });

      const appliers = [parallel.app.applier, ...others.map((a) => a.applier)];
      const runs = await Promise.all(
        parts.map((file, g) => ingestStream(openInput(file), appliers[g]!, { batchSize: 500 })),
      );
      expect(runs.map((r) => r.rejected)).toEqual([0, 0, 0]);
      expect(runs.reduce((n, r) => n + r.applied, 0)).toBe(events.length);
      expect(runs.reduce((n, r) => n + r.transitions, 0)).toBe(s.transitions);
      // The runs really overlapped: each file's transitions span sequences the others' do too (one
      // file after another would leave each a block of its own).
      const spans = await queryRows<{ grp: number; lo: string; hi: string }>(
        parallel.url,
        `SELECT (split_part(cause_event_id, '-', 2)::int % 3) AS grp, min(sequence)::text AS lo, max(sequence)::text AS hi
           FROM service_flag_transition GROUP BY 1 ORDER BY 1`,
      );
      expect(spans).toHaveLength(3);
      for (const x of spans)
        for (const y of spans)
          if (x.grp !== y.grp) expect(BigInt(x.lo) < BigInt(y.hi) && BigInt(y.lo) < BigInt(x.hi)).toBe(true);

      expect(await digestState(parallel.url, { transitions: "perMeterPoint" })).toEqual(
        await digestState(sequential.url, { transitions: "perMeterPoint" }),
      );
    } finally {
      await Promise.all(others.map((a) => a.close()));
      await sequential.close();
      await parallel.close();
    }
  });
});
