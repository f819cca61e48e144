import { mpanCheckDigit } from "../domain/identifiers";

/** Small deterministic PRNG (mulberry32): the same seed gives the same inventory. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A valid MPAN core: distributor id, ten digits from `n`, and the check digit. */
export function syntheticMpan(distributorId: number, n: number): string {
  const first12 = `${distributorId}${String(n % 1e10).padStart(10, "0")}`;
  return `${first12}${mpanCheckDigit(first12)}`;
}

/** A 10-digit MPRN from `n` (never starting with 0). */
export const syntheticMprn = (n: number): string =>
  `${1 + (Math.floor(n / 1e9) % 9)}${String(n % 1e9).padStart(9, "0")}`;

/** An EUI-64 device id from a 64-bit-ish number and a type nibble. */
export function syntheticDeviceId(n: number, kind: number): string {
  const hex = (BigInt(n) * 16n + BigInt(kind)).toString(16).toUpperCase().padStart(16, "0").slice(-16);
  return hex.match(/../g)!.join("-");
}

export type RawEvent = Record<string, string>;
