import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { deriveMatch, parseRegistrationLine, reconcile } from "../../src/flows/reconcile";
import { FlowStore } from "../../src/persistence/flowStore";
import { Story, apply, dev, mpan, mprn, openFlowsApp } from "./flowEvents";
import { scratchDirs } from "../support/harness";

describe("registration line parsing", () => {
  it.each([
    [["1312345678907", "A"], { ok: true, flag: "A" }],
    [["1312345678907", ""], { ok: true, flag: "" }],
    [["1312345678907", " s "], { ok: true, flag: "S" }],
    [["1234567890", "W"], { ok: true, flag: "W" }],
    [["1312345678907"], { ok: false, code: "MALFORMED_LINE" }],
    [["1312345678907", "A", "x"], { ok: false, code: "MALFORMED_LINE" }],
    [["1312345678900", "A"], { ok: false, code: "INVALID_MPXN" }],
    [["12ab", "A"], { ok: false, code: "INVALID_MPXN" }],
    [["1312345678907", "Q"], { ok: false, code: "INVALID_FLAG" }],
  ])("%j → %j", (fields, expected) => {
    expect(parseRegistrationLine(fields)).toMatchObject(expected);
  });

  it.each([
    ["", null, true],
    ["A", "A", true],
    ["", "A", false],
    ["A", null, false],
    ["S", "A", false],
    ["W", "N", false],
    ["I", "A", false],
  ] as const)("registered %j against derived %j matches: %s", (registered, derived, match) => {
    expect(deriveMatch(registered, derived)).toBe(match);
  });
});

describe("reconcile (SPEC §7)", () => {
  const newDir = scratchDirs("smi-reconcile-");
  let t: Awaited<ReturnType<typeof openFlowsApp>>;
  beforeAll(async () => {
    t = await openFlowsApp();
  });
  afterAll(async () => t.close());

  it("counts pairs, lists mismatches, reports bad lines and writes corrections in the export format", async () => {
    const s = new Story("rec");
    const a1 = mpan(10, 1); // derived A
    const a2 = mpan(10, 2); // derived A
    const i1 = mpan(12, 1); // derived I
    const n1 = mpan(10, 3); // derived N
    const nul = mpan(10, 4); // derived null
    const gas = mprn(7); // derived A, NGN
    await apply(t.app, [
      ...s.meterPointWith(a1, dev(1), "Commissioned", "2026-06-30T23:30:00Z"),
      ...s.meterPointWith(a2, dev(2), "Commissioned", "2026-03-02T10:00:00Z"),
      ...s.meterPointWith(i1, dev(3), "InstalledNotCommissioned", "2026-03-02T10:00:00Z"),
      ...s.meterPointWith(n1, dev(4), "Commissioned", "2026-03-02T10:00:00Z"),
      s.status(dev(4), "Decommissioned", "2026-03-03T10:00:00Z"),
      ...s.meterPointWith(nul, dev(5), "Pending", "2026-03-02T10:00:00Z"),
      ...s.meterPointWith(gas, dev(6), "Commissioned", "2026-03-02T10:00:00Z", "NGN"),
    ]);
    const csv = [
      "mpxn,flag", // 1: header
      `${a1},A`, // 2: match
      `${a2},S`, // 3: retired S, derived A → correction A
      `${i1},`, // 4: blank, derived I → correction I
      `${n1},W`, // 5: retired W, derived N → correction N
      `${nul},`, // 6: blank, derived null → match
      `${nul},A`, // 7: registered A, derived null → mismatch, no correction (null is never sent)
      `${gas},I`, // 8: gas mismatch → E46 correction
      `1312345678907,A`, // 9: valid MPAN, unknown
      `1312345678900,A`, // 10: bad check digit
      `${a2},X`, // 11: invalid flag
      `${a2}`, // 12: one field
      `"${a2},A`, // 13: unclosed quote (swallows the rest of the file)
    ].join("\n");
    const outDir = newDir();
    const r = await reconcile(Readable.from([csv]), new FlowStore(t.app.ds), {
      outDir,
      correctionsFileId: "RECON",
      d0350GroupId: "DSF",
      now: new Date("2026-07-01T12:00:00Z"),
      batchSize: 3,
    });

    expect(r).toMatchObject({
      compared: 7,
      matches: 2,
      mismatches: 5,
      corrections: 4,
      uncorrectable: 1,
      unknown: 1,
      malformed: 4,
    });
    expect(r.pairs).toEqual([
      { registered: "", derived: "", count: 1 },
      { registered: "", derived: "I", count: 1 },
      { registered: "A", derived: "", count: 1 },
      { registered: "A", derived: "A", count: 1 },
      { registered: "I", derived: "A", count: 1 },
      { registered: "S", derived: "A", count: 1 },
      { registered: "W", derived: "N", count: 1 },
    ]);

    const mismatches = readFileSync(path.join(outDir, "mismatches.csv"), "utf8").trim().split("\n");
    expect(mismatches).toEqual([
      "line,mpxn,fuel,network_operator,registered,derived,effective_date,correction",
      `3,${a2},ELECTRICITY,EELC,S,A,20260302,D0350`,
      `4,${i1},ELECTRICITY,LOND,,I,20260302,D0350`,
      `5,${n1},ELECTRICITY,EELC,W,N,20260303,D0350`,
      `7,${nul},ELECTRICITY,EELC,A,,,none: a null flag is never sent`,
      `8,${gas},GAS,NGN,I,A,20260302,E46`,
    ]);
    const issues = readFileSync(path.join(outDir, "issues.csv"), "utf8").trim().split("\n");
    expect(issues.map((l) => l.split(",").slice(0, 2).join(","))).toEqual([
      "line,code",
      "9,UNKNOWN_MPXN",
      "10,INVALID_MPXN",
      "11,INVALID_FLAG",
      "12,MALFORMED_LINE",
      "13,MALFORMED_LINE",
    ]);

    expect(readdirSync(outDir).sort()).toEqual([
      "D0350_EELC_RECON.txt",
      "D0350_LOND_RECON.txt",
      "E46_NGN_RECON.csv",
      "issues.csv",
      "mismatches.csv",
      "summary.json",
    ]);
    expect(readFileSync(path.join(outDir, "D0350_EELC_RECON.txt"), "utf8")).toBe(
      [
        "ZHV|RECON|D0350001|Z|DCCO|P|EELC|20260701130000||||OPER|",
        `DSF|${a2}|A|20260302|`,
        `DSF|${n1}|N|20260303|`,
        "ZPT|RECON|2||1|20260701130000|",
        "",
      ].join("\n"),
    );
    expect(readFileSync(path.join(outDir, "E46_NGN_RECON.csv"), "utf8")).toBe(
      ["A00,DCC,NGN,E46,RECON,20260701130000", `E46,${gas},A,20260302`, "Z99,1", ""].join("\n"),
    );
    expect(JSON.parse(readFileSync(path.join(outDir, "summary.json"), "utf8"))).toMatchObject({
      mismatches: 5,
    });
  });
});
