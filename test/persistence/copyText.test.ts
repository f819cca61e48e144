import { Client, types } from "pg";
import { isoInstant, parseTimestamptz } from "../../src/persistence/inventoryStore";
import { createTestDatabase } from "../support/harness";

describe("isoInstant (the COPY formatter of instants)", () => {
  it("equals toISOString across days, years, leap days, negative epochs and the ms edges", () => {
    const instants = [
      0,
      -1,
      -86_400_000,
      -86_400_001,
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      Date.UTC(2024, 1, 29, 12, 0, 0, 7),
      Date.UTC(2024, 11, 31, 23, 59, 59, 999),
      Date.UTC(2025, 0, 1, 0, 0, 0, 0),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.UTC(10000, 0, 1, 0, 0, 0, 1),
      Date.UTC(1, 0, 1, 0, 0, 0, 0),
    ];
    // A deterministic walk over 60 years in uneven steps, revisiting days out of order.
    let t = Date.UTC(1990, 0, 1);
    for (let i = 0; i < 20_000; i++) {
      t += ((i * 7919) % 104_729) * 997 * (i % 3 === 0 ? -1 : 11);
      instants.push(t);
    }
    for (const ms of instants) expect(isoInstant(new Date(ms))).toBe(new Date(ms).toISOString());
  });

  it("throws on an invalid date, as toISOString does", () => {
    expect(() => isoInstant(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe("parseTimestamptz (the working set's reader of instants)", () => {
  const pgParse = types.getTypeParser(1184, "text") as (text: string) => Date;
  it("reads what pg's own parser reads, for every form PostgreSQL prints", () => {
    const samples = [
      "2026-03-01 09:00:00+00",
      "2026-03-01 09:00:00.1+00",
      "2026-03-01 09:00:00.12+00",
      "2026-03-01 09:00:00.123+00",
      "2026-03-01 09:00:00.123456+00",
      "2026-03-01 09:00:00+05:30",
      "2026-03-01 09:00:00.5-03",
      "2026-03-01 09:00:00.25-03:30",
      "2026-12-31 23:30:00+01",
      "2026-01-01 00:30:00.001-11",
      "2024-02-29 23:59:59.999+00",
      "1969-12-31 23:59:59.999+00",
      "0001-01-01 00:00:00+00",
      "0044-03-15 12:00:00+00 BC",
      "12026-01-01 00:00:00+00",
      "1900-01-01 00:00:00-00:01:15",
    ];
    for (const s of samples) expect([s, parseTimestamptz(s).getTime()]).toEqual([s, pgParse(s).getTime()]);
  });

  it("reads back what the database stores, through a real query", async () => {
    const db = await createTestDatabase();
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      const instants = ["2026-03-01T09:00:00.000Z", "2026-03-01T09:00:00.007Z", "1999-12-31T23:59:59.999Z"];
      for (const zone of ["UTC", "Europe/London", "Asia/Kolkata", "America/St_Johns"]) {
        await c.query(`SET TimeZone = '${zone}'`);
        const { rows } = await c.query<{ t: string }>({
          text: "SELECT t::timestamptz::text AS t FROM unnest($1::text[]) AS u(t)",
          values: [instants],
        });
        expect(rows.map((r) => parseTimestamptz(r.t).toISOString())).toEqual(instants);
      }
    } finally {
      await c.end();
      await db.drop();
    }
  });
});
