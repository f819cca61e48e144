import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { ingestStream, openInput } from "../../src/ingest/ingestStream";
import { syntheticDeviceId, syntheticMpan } from "../../src/ingest/synthetic";
import { openTestApp, queryRows, writeNdjson } from "./support";

/**
 * Mass events (SPEC §2.3 vector 22, MP077 §3/§7): a CPL removal suspends every meter of a model, and
 * an SMKI recovery moves a population through Recovery and Recovered. Neither may flip a flag or
 * record a transition. At 100,000 devices, through the bulk ingest path.
 *
 * The population is written set-based in SQL (what 400,000 events would have left: registered,
 * associated, commissioned or installed-not-commissioned meters and their histories), so the
 * test's time goes to the behaviour under test: 200,000 status events through `ingest` (the whole
 * model suspended, then half of it, the population whose certificates were compromised, taken
 * through Recovery and Recovered while the other half stays Suspended).
 */
const DEVICES = 100_000;
// About 35 s alone on 2 cores; generous, since CI may share the machine.
jest.setTimeout(300_000);

describe("mass events at 100,000 devices", () => {
  let t: Awaited<ReturnType<typeof openTestApp>>;
  let dir: string;
  const ids = Array.from({ length: DEVICES }, (_, i) => syntheticDeviceId(9_000_000 + i, 1));

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "smi-mass-test-"));
    t = await openTestApp();
    const mpans = Array.from({ length: DEVICES }, (_, i) => syntheticMpan(10 + (i % 14), 7_000_000 + i));
    // Every tenth meter installed but not commissioned (flag I), the rest commissioned (flag A).
    const statuses = ids.map((_, i) => (i % 10 === 0 ? "InstalledNotCommissioned" : "Commissioned"));
    const c = new Client({ connectionString: t.url });
    await c.connect();
    try {
      await c.query("BEGIN");
      await c.query(
        `INSERT INTO meter_point (mpxn, fuel, network_operator, supplier, service_flag, flag_effective_at, registered_at, last_event_at)
         SELECT m, 'ELECTRICITY', 'LOND', 'EDFE', CASE WHEN s = 'Commissioned' THEN 'A' ELSE 'I' END,
                '2025-01-01T00:03:00Z', '2025-01-01T00:00:00Z', '2025-01-01T00:01:00Z'
           FROM unnest($1::text[], $2::text[]) AS u(m, s)`,
        [mpans, statuses],
      );
      await c.query(
        `INSERT INTO device (device_id, device_type, smets, manufacturer, model, firmware_version, status,
                             status_effective_at, effective_status, last_event_at)
         SELECT d, 'ESME', 'SMETS2', 'ACME', 'CPL-9', '1.0', s, '2025-01-01T00:03:00Z', s, '2025-01-01T00:03:00Z'
           FROM unnest($1::text[], $2::text[]) AS u(d, s)`,
        [ids, statuses],
      );
      await c.query(
        `INSERT INTO device_association (device_id, mpxn, role, begun_at, begin_event_id)
         SELECT d, m, 'Import', '2025-01-01T00:01:00Z', 'setup-a-' || d FROM unnest($1::text[], $2::text[]) AS u(d, m)`,
        [ids, mpans],
      );
      await c.query(
        `INSERT INTO device_status_change (device_id, status, effective_status, occurred_at, event_id)
         SELECT d, s, s, '2025-01-01T00:03:00Z', 'setup-s-' || d FROM unnest($1::text[], $2::text[]) AS u(d, s)`,
        [ids, statuses],
      );
      await c.query("COMMIT");
    } finally {
      await c.end();
    }
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const flags = () =>
    queryRows<{ flag: string; n: number; md5: string }>(
      t.url,
      `SELECT service_flag AS flag, count(*)::int AS n,
              md5(string_agg(mpxn || ':' || flag_effective_at::text, ',' ORDER BY mpxn)) AS md5
         FROM meter_point GROUP BY service_flag ORDER BY service_flag`,
    );
  const transitionCount = async () =>
    (await queryRows<{ n: number }>(t.url, "SELECT count(*)::int AS n FROM service_flag_transition"))[0]!.n;

  it("suspends a whole model (CPL removal) and recovers it (SMKI) with no transition and no flag change", async () => {
    const before = await flags();
    expect(before.map((f) => [f.flag, f.n])).toEqual([
      ["A", 90_000],
      ["I", 10_000],
    ]);

    const file = path.join(dir, "mass.ndjson");
    await writeNdjson(
      file,
      (function* () {
        for (const [step, status] of ["Suspended", "Recovery", "Recovered"].entries()) {
          const occurredAt = `2026-02-0${step + 1}T00:00:00Z`;
          const population = status === "Suspended" ? ids : ids.slice(0, DEVICES / 2);
          for (const deviceId of population) {
            yield {
              eventId: `${status}-${deviceId}`,
              occurredAt,
              type: "DeviceStatusChanged",
              deviceId,
              status,
            };
          }
        }
      })(),
    );
    const s = await ingestStream(openInput(file), t.app.applier, { batchSize: 10_000 });
    expect(s).toMatchObject({ applied: 2 * DEVICES, rejected: 0, transitions: 0 });

    expect(await transitionCount()).toBe(0);
    expect(await flags()).toEqual(before);
    const devices = await queryRows<{ status: string; effective_status: string; n: number }>(
      t.url,
      "SELECT status, effective_status, count(*)::int AS n FROM device GROUP BY 1, 2 ORDER BY 2, 1",
    );
    expect(devices).toEqual([
      { status: "Recovered", effective_status: "Commissioned", n: 45_000 },
      { status: "Suspended", effective_status: "Commissioned", n: 45_000 },
      { status: "Recovered", effective_status: "InstalledNotCommissioned", n: 5_000 },
      { status: "Suspended", effective_status: "InstalledNotCommissioned", n: 5_000 },
    ]);
    const history = await queryRows<{ n: number }>(
      t.url,
      "SELECT count(*)::int AS n FROM device_status_change WHERE status IN ('Suspended', 'Recovery', 'Recovered')",
    );
    expect(history[0]!.n).toBe(2 * DEVICES);
  });

  it("still records a transition when one of those meters is really removed afterwards", async () => {
    const o = await t.app.applier.applyRaw([
      {
        eventId: "real-removal",
        occurredAt: "2026-03-01T00:00:00Z",
        type: "DeviceStatusChanged",
        deviceId: ids[1]!,
        status: "Decommissioned",
      },
    ]);
    expect(o.transitions.map((x) => [x.from, x.to])).toEqual([["A", "N"]]);
    expect(await transitionCount()).toBe(1);
  });
});
