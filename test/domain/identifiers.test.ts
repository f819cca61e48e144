import { DomainError } from "../../src/domain/DomainError";
import { Fuel, deriveNetworkOperatorFromMpan, parseDeviceId, parseMpxn } from "../../src/domain/identifiers";

function codeOf(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    return e instanceof DomainError ? e.code : "not a DomainError";
  }
}

describe("parseMpxn", () => {
  it.each([
    ["1312345678907", Fuel.ELECTRICITY, "SPEC §2.1 example MPAN"],
    ["123456", Fuel.GAS, "6-digit MPRN"],
    ["1234567890", Fuel.GAS, "10-digit MPRN (check digits never verified)"],
  ])("accepts %s as %s (%s)", (mpxn, fuel) => {
    expect(parseMpxn(mpxn)).toEqual({ mpxn, fuel });
  });

  it.each([
    ["1312345678901", "wrong MPAN check digit"],
    ["12345", "5 digits"],
    ["12345678901", "11 digits"],
    ["123456789012", "12 digits"],
    ["13123456789070", "14 digits"],
    ["13123456789O7", "a letter"],
    ["", "empty"],
    [" 1312345678907", "leading space"],
    [1312345678907, "a number, not a string"],
    [null, "null"],
  ])("rejects %p as INVALID_MPXN (%s)", (value: unknown, _why: string) => {
    expect(codeOf(() => parseMpxn(value))).toBe("INVALID_MPXN");
  });

  it("names what was expected and what was received", () => {
    expect(() => parseMpxn("1312345678901")).toThrow(/check digit is 7, got "1312345678901"/);
  });
});

describe("deriveNetworkOperatorFromMpan", () => {
  it.each([
    ["1012345678901", "EELC"],
    ["1312345678907", "MANW"],
    ["2312345678901", "YELG"],
  ])("maps %s to %s", (mpan, id) => expect(deriveNetworkOperatorFromMpan(mpan)).toBe(id));

  it("uses configured independent networks and null otherwise", () => {
    expect(deriveNetworkOperatorFromMpan("2412345678901", { "24": "IPNL" })).toBe("IPNL");
    expect(deriveNetworkOperatorFromMpan("2412345678901")).toBeNull();
  });
});

describe("parseDeviceId", () => {
  it("accepts any case and returns upper case", () => {
    expect(parseDeviceId("bc-33-ac-ff-fe-fa-55-3d")).toBe("BC-33-AC-FF-FE-FA-55-3D");
  });
  it.each([
    ["BC-33-AC-FF-FE-FA-55", "seven pairs"],
    ["BC:33:AC:FF:FE:FA:55:3D", "colons"],
    ["BC33ACFFFEFA553D", "no hyphens"],
    ["BC-33-AC-FF-FE-FA-55-3G", "not hex"],
    ["BC-33-AC-FF-FE-FA-55-3D-00", "nine pairs"],
    [42, "a number"],
  ])("rejects %p as INVALID_DEVICE_ID (%s)", (value: unknown, _why: string) => {
    expect(codeOf(() => parseDeviceId(value))).toBe("INVALID_DEVICE_ID");
  });
});
