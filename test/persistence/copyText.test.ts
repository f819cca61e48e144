import { isoInstant } from "../../src/persistence/inventoryStore";

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
