import { readFileSync } from "node:fs";
import path from "node:path";
import { formatD0350, formatD0350Record } from "../../src/flows/d0350";
import { formatE46, formatE46Record } from "../../src/flows/e46";
import { type FlowRecord, formatLondonDate, formatLondonTimestamp } from "../../src/flows/flowRecord";

const fixture = (name: string) => readFileSync(path.join(__dirname, "../fixtures/flows", name), "utf8");

describe("D0350 format (docs/flows/D0350.md)", () => {
  const records: FlowRecord[] = [
    { mpxn: "1012345678903", flag: "A", effectiveDate: "20260630" },
    { mpxn: "1312345678907", flag: "I", effectiveDate: "20260701" },
    { mpxn: "1399999999994", flag: "N", effectiveDate: "20251231" },
  ];

  it("renders ZHV, one DSF group per MPAN and ZPT exactly as the golden file", () => {
    const out = formatD0350({
      fileId: 7,
      recipient: "EELC",
      createdAt: new Date("2026-07-01T08:30:05Z"),
      records,
    });
    expect(out).toBe(fixture("D0350_EELC_00000007.txt"));
  });

  it("uses the configured group id", () => {
    expect(formatD0350Record(records[0]!, "X99")).toBe("X99|1012345678903|A|20260630|\n");
  });

  it("writes an empty-bodied file with a zero count (the exporter never asks for one)", () => {
    expect(
      formatD0350({ fileId: 1, recipient: "LOND", createdAt: new Date("2026-01-01T00:00:00Z"), records: [] }),
    ).toBe("ZHV|1|D0350001|Z|DCCO|P|LOND|20260101000000||||OPER|\nZPT|1|0||1|20260101000000|\n");
  });

  it.each([
    [{ mpxn: "1234567890", flag: "A", effectiveDate: "20260101" }, /13-digit MPAN core/],
    [{ mpxn: "1312345678907", flag: "S", effectiveDate: "20260101" }, /flag A, I or N/],
    [{ mpxn: "1312345678907", flag: null, effectiveDate: "20260101" }, /flag A, I or N/],
    [{ mpxn: "1312345678907", flag: "A", effectiveDate: "2026-01-01" }, /YYYYMMDD/],
  ])("refuses a record it cannot carry: %j", (r, message) => {
    expect(() => formatD0350Record(r as unknown as FlowRecord)).toThrow(message);
  });

  it("refuses a group id that is not three characters", () => {
    expect(() => formatD0350Record(records[0]!, "DSFX")).toThrow(/three-character group id/);
  });
});

describe("E46 format (docs/flows/E46.md)", () => {
  it("renders A00, one E46 per MPRN and Z99 exactly as the golden file", () => {
    const out = formatE46({
      fileId: 3,
      recipient: "NGN",
      createdAt: new Date("2026-01-15T23:59:59Z"),
      records: [
        { mpxn: "1234567890", flag: "A", effectiveDate: "20260115" },
        { mpxn: "123456", flag: "N", effectiveDate: "20260101" },
      ],
    });
    expect(out).toBe(fixture("E46_NGN_00000003.csv"));
  });

  it("refuses an MPAN in a gas file", () => {
    expect(() => formatE46Record({ mpxn: "1312345678907", flag: "A", effectiveDate: "20260101" })).toThrow(
      /6–10 digit MPRN/,
    );
  });
});

describe("Europe/London dates", () => {
  it.each([
    // BST starts 2026-03-29 01:00 UTC; ends 2026-10-25 01:00 UTC.
    ["2026-06-30T22:59:59Z", "20260630", "20260630235959"],
    ["2026-06-30T23:00:00Z", "20260701", "20260701000000"],
    ["2026-01-31T23:59:59Z", "20260131", "20260131235959"],
    ["2026-03-29T00:59:59Z", "20260329", "20260329005959"],
    ["2026-03-29T01:00:00Z", "20260329", "20260329020000"],
    ["2026-10-24T23:00:00Z", "20261025", "20261025000000"],
    ["2026-10-25T23:00:00Z", "20261025", "20261025230000"],
  ])("%s is %s (%s) in London", (iso, date, stamp) => {
    expect(formatLondonDate(new Date(iso))).toBe(date);
    expect(formatLondonTimestamp(new Date(iso))).toBe(stamp);
  });
});
