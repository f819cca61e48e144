import { DISTRIBUTOR_MPAS_IDS } from "../../src/domain/identifiers";
import { GAS_TRANSPORTERS } from "../../src/ingest/seed";
import { seedInventory } from "../../src/ingest/seedInventory";
import { openTestApp, queryRows } from "./support";

/** `seed --meter-points N`: a realistic inventory, through the ingest path. */
describe("seed", () => {
  let t: Awaited<ReturnType<typeof openTestApp>>;
  const N = 4000;
  beforeAll(async () => {
    t = await openTestApp();
    const s = await seedInventory(t.app.applier, { meterPoints: N, batchSize: 5000, prefix: "mix" });
    expect(s.rejected).toBe(0);
    expect(s.applied).toBe(s.events);
  });
  afterAll(() => t.close());

  const one = async <T>(sql: string): Promise<T> => (await queryRows<T>(t.url, sql))[0]!;

  it("has a flag mix like the industry's: mostly A, a few percent I and N, the rest null", async () => {
    const rows = await queryRows<{ flag: string | null; share: number }>(
      t.url,
      `SELECT service_flag AS flag, count(*)::float / sum(count(*)) OVER () AS share
         FROM meter_point WHERE mpxn IN (SELECT mpxn FROM device_association WHERE role <> 'Export')
            OR mpxn NOT IN (SELECT mpxn FROM device_association)
        GROUP BY service_flag`,
    );
    const share = Object.fromEntries(rows.map((r) => [r.flag ?? "null", r.share]));
    expect(share.A).toBeGreaterThan(0.5);
    expect(share.I).toBeGreaterThan(0.02);
    expect(share.I).toBeLessThan(0.1);
    expect(share.N).toBeGreaterThan(0.01);
    expect(share.N).toBeLessThan(0.1);
    expect(share.null).toBeGreaterThan(0.2);
    expect(share.null).toBeLessThan(share.A!);
  });

  it("covers both fuels, every electricity network, the gas transporters and several suppliers", async () => {
    const fuels = await queryRows<{ fuel: string; n: number }>(
      t.url,
      "SELECT fuel, count(*)::int AS n FROM meter_point GROUP BY fuel ORDER BY fuel",
    );
    expect(fuels.map((f) => f.fuel)).toEqual(["ELECTRICITY", "GAS"]);
    expect(Math.min(...fuels.map((f) => f.n))).toBeGreaterThan(N * 0.35);
    const networks = await queryRows<{ network_operator: string }>(
      t.url,
      "SELECT DISTINCT network_operator FROM meter_point ORDER BY 1",
    );
    expect(networks.map((n) => n.network_operator)).toEqual(
      expect.arrayContaining([...Object.values(DISTRIBUTOR_MPAS_IDS), ...GAS_TRANSPORTERS]),
    );
    expect(
      (await one<{ n: number }>("SELECT count(DISTINCT supplier)::int AS n FROM meter_point")).n,
    ).toBeGreaterThanOrEqual(6);
  });

  it("has SMETS1 and SMETS2 meters, install-and-leave, removals, exchanges, export MPANs, CPL suspensions and SMKI recovery", async () => {
    const c = await one<Record<string, number>>(`SELECT
      count(*) FILTER (WHERE smets = 'SMETS1' AND device_type IN ('ESME','GSME'))::int AS smets1,
      count(*) FILTER (WHERE smets = 'SMETS2' AND device_type IN ('ESME','GSME'))::int AS smets2,
      count(*) FILTER (WHERE status = 'InstalledNotCommissioned')::int AS inc,
      count(*) FILTER (WHERE status = 'Decommissioned')::int AS removed,
      count(*) FILTER (WHERE status = 'Withdrawn')::int AS withdrawn,
      count(*) FILTER (WHERE status = 'Suspended' AND effective_status = 'Commissioned')::int AS suspended,
      count(*) FILTER (WHERE status = 'Recovered' AND effective_status = 'Commissioned')::int AS recovered,
      count(*) FILTER (WHERE device_type IN ('GPF', 'CHF'))::int AS hubs
      FROM device`);
    for (const [k, v] of Object.entries(c)) expect([k, v > 0]).toEqual([k, true]);
    const exports = await one<{ n: number }>(
      "SELECT count(*)::int AS n FROM device_association WHERE role = 'Export'",
    );
    expect(exports.n).toBeGreaterThan(0);
    const exchanges = await one<{ n: number }>(`SELECT count(*)::int AS n FROM (
        SELECT a.mpxn FROM device_association a JOIN device d USING (device_id)
         WHERE d.device_type IN ('ESME','GSME') GROUP BY a.mpxn HAVING count(*) > 1 AND count(*) FILTER (WHERE a.ended_at IS NOT NULL) > 0) x`);
    expect(exchanges.n).toBeGreaterThan(0);
    const supplierChanges = await one<{ n: number }>(
      "SELECT count(*)::int AS n FROM applied_event WHERE event_type = 'SupplierChanged'",
    );
    expect(supplierChanges.n).toBeGreaterThan(0);
  });

  it("adds a separate population under another prefix instead of colliding with the first", async () => {
    const before = await one<{ n: number }>("SELECT count(*)::int AS n FROM meter_point");
    const s = await seedInventory(t.app.applier, { meterPoints: 200, batchSize: 5000, prefix: "mix-2" });
    expect(s.rejected).toBe(0);
    const after = await one<{ n: number }>("SELECT count(*)::int AS n FROM meter_point");
    expect(after.n).toBeGreaterThanOrEqual(before.n + 200);
  });
});
