import { DeviceType, SmiDeviceStatus as S } from "../../src/domain/device";
import { parseEvent } from "../../src/domain/events";
import { InventoryWorkingSet } from "../../src/domain/inventory";
import {
  DccServiceFlag,
  FlagRule,
  deriveContribution,
  deriveEffectiveStatus,
  deriveServiceFlag,
} from "../../src/domain/serviceFlag";
import { buildDecisionVectors } from "../../src/ingest/decisionVectors";

describe("deriveEffectiveStatus", () => {
  it.each([
    [S.COMMISSIONED, S.SUSPENDED, S.COMMISSIONED],
    [S.COMMISSIONED, S.RECOVERY, S.COMMISSIONED],
    [S.COMMISSIONED, S.RECOVERED, S.COMMISSIONED],
    [S.PENDING, S.SUSPENDED, S.PENDING],
    [null, S.SUSPENDED, null],
    [S.COMMISSIONED, S.DECOMMISSIONED, S.DECOMMISSIONED],
    [S.INSTALLED_NOT_COMMISSIONED, S.PENDING, S.PENDING],
  ])("from %s, moving to %s contributes as %s", (prev, next, expected) => {
    expect(deriveEffectiveStatus(prev, next)).toBe(expected);
  });
});

describe("deriveContribution", () => {
  it.each([
    [DeviceType.ESME, S.COMMISSIONED, "I", DccServiceFlag.A],
    [DeviceType.GSME, S.INSTALLED_NOT_COMMISSIONED, "I", DccServiceFlag.I],
    [DeviceType.ESME, S.WHITELISTED, "I", DccServiceFlag.I],
    [DeviceType.ESME, S.WHITELISTED, "IGNORE", null],
    [DeviceType.ESME, S.PENDING, "I", null],
    [DeviceType.ESME, S.DECOMMISSIONED, "I", null],
    [DeviceType.ESME, S.WITHDRAWN, "I", null],
    [DeviceType.GPF, S.COMMISSIONED, "I", null],
    [DeviceType.CHF, S.COMMISSIONED, "I", null],
    [DeviceType.IHD, S.COMMISSIONED, "I", null],
  ] as const)("%s with effective status %s (policy %s) contributes %p", (type, status, policy, expected) => {
    expect(deriveContribution(type, status, policy)).toBe(expected);
  });
});

describe("deriveServiceFlag", () => {
  const d = (deviceId: string, effectiveStatus: S, deviceType = DeviceType.ESME) => ({
    deviceId,
    deviceType,
    effectiveStatus,
  });
  it("keeps flag A while one Commissioned meter remains, listing only the A contributors", () => {
    expect(
      deriveServiceFlag(
        [d("b", S.COMMISSIONED), d("a", S.INSTALLED_NOT_COMMISSIONED), d("c", S.COMMISSIONED)],
        true,
        "I",
      ),
    ).toEqual({
      flag: DccServiceFlag.A,
      rule: FlagRule.ANY_COMMISSIONED,
      contributingDeviceIds: ["b", "c"],
    });
  });
  it("is N with no contributors once active, null before", () => {
    expect(deriveServiceFlag([d("a", S.DECOMMISSIONED)], true, "I").flag).toBe(DccServiceFlag.N);
    expect(deriveServiceFlag([d("a", S.DECOMMISSIONED)], false, "I")).toEqual({
      flag: null,
      rule: FlagRule.NEVER_ACTIVE,
      contributingDeviceIds: [],
    });
  });
});

describe("the decision vectors of SPEC §2.3, applied to the working set", () => {
  const vectors = buildDecisionVectors("unit");
  it("covers all 22 vectors", () =>
    expect(vectors.map((v) => v.id)).toEqual(Array.from({ length: 22 }, (_, i) => i + 1)));

  it.each(vectors.map((v) => [v.id, v.history, v] as const))("vector %i: %s", (_id, _h, v) => {
    const ws = new InventoryWorkingSet({ whitelistedPolicy: "I", extraDistributors: {} });
    for (const raw of v.events) ws.apply(parseEvent(raw));
    for (const [mpxn, flag] of Object.entries(v.expected))
      expect([mpxn, ws.meterPoints.get(mpxn)!.flag]).toEqual([mpxn, flag]);
    const silent = new Set(v.silentEventIds ?? []);
    expect(ws.transitions.filter((t) => silent.has(t.causeEventId))).toEqual([]);
    // Once a meter point leaves null it never returns to null.
    expect(ws.transitions.filter((t) => t.from !== null && t.to === null)).toEqual([]);
  });

  it("counts Whitelisted as nothing under WHITELISTED_POLICY=IGNORE (vector 2 gives null)", () => {
    const ws = new InventoryWorkingSet({ whitelistedPolicy: "IGNORE", extraDistributors: {} });
    const v2 = vectors.find((v) => v.id === 2)!;
    for (const raw of v2.events) ws.apply(parseEvent(raw));
    expect(Object.keys(v2.expected).map((m) => ws.meterPoints.get(m)!.flag)).toEqual([null]);
  });
});
