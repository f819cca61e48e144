import { seedInventory } from "../../src/ingest/seedInventory";
import { type TestApp, startTestApp } from "../support/harness";

/**
 * SQL statements per GraphQL operation must not grow with list size: every field that loads data
 * goes through a request-scoped DataLoader. This counts what the server sends to PostgreSQL.
 */
const QUERY = `query($m: [ID!]!) {
  meterPoints(mpxns: $m) {
    mpxn serviceFlag networkOperator supplier
    flagExplanation { rule contributingDevices { deviceId status } }
    devices(includeHistoric: true) {
      deviceId status
      statusHistory(first: 5) { edges { node { status occurredAt } } }
      meterPoints { mpxn serviceFlag }
    }
    flagHistory(first: 10) { edges { node { sequence from to meterPoint { mpxn } } } pageInfo { hasNextPage } }
  }
}`;

describe("SQL statements per operation", () => {
  let t: TestApp;
  let mpxns: string[];

  beforeAll(async () => {
    t = await startTestApp();
    await seedInventory(t.app.applier, { meterPoints: 900, batchSize: 1000, prefix: "stmt" });
    const rows: { mpxn: string }[] = await t.app.ds.query(
      "SELECT mpxn FROM meter_point WHERE service_flag IS NOT NULL ORDER BY mpxn LIMIT 500",
    );
    mpxns = rows.map((r) => r.mpxn);
    expect(mpxns).toHaveLength(500);
  });
  afterAll(async () => t.close());

  async function statementsFor(list: string[]): Promise<{ count: number; sql: string[] }> {
    await t.gql(QUERY, { m: list.slice(0, 1) }); // warm any per-key caches (e.g. authentication)
    t.counter.reset();
    const { body } = await t.gql<{ meterPoints: { mpxn: string }[] }>(QUERY, { m: list });
    expect(body.errors).toBeUndefined();
    expect(body.data!.meterPoints.map((p) => p.mpxn)).toEqual(list);
    return { count: t.counter.count, sql: [...t.counter.statements] };
  }

  it("issues the same statements for 10 and for 500 meter points with devices, explanation and history", async () => {
    const ten = await statementsFor(mpxns.slice(0, 10));
    const fiveHundred = await statementsFor(mpxns);
    expect(fiveHundred.count).toBe(ten.count);
    expect(fiveHundred.sql).toEqual(ten.sql);
    // one statement per loader: meter points, devices (historic), status history, meter points of devices, flag history
    expect(ten.count).toBeLessThanOrEqual(8);
  });
});
