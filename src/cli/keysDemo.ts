import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type App } from "../app";
import { Role } from "../domain/access";
import { API_KEY_PATTERN, ApiKeyStore, hashApiKey } from "../persistence/apiKeyStore";

/** The demo parties: a supplier and a network operator that the demo inventory holds. */
export const DEMO_GRANTS = [
  { role: Role.DCC, party: null },
  { role: Role.SUPPLIER, party: "EDFE" },
  { role: Role.NETWORK_OPERATOR, party: "MANW" },
  { role: Role.COMPARISON_SITE, party: null },
] as const;

export interface DemoKey {
  readonly role: Role;
  readonly party: string | null;
  readonly key: string;
}

/**
 * One API key per role for the embedded demo database. They are kept in DATA_DIR/demo-keys.json
 * (mode 0600, beside the database they open) and reused across restarts while they are still
 * active there; a missing or revoked one is replaced by a new key.
 */
export async function ensureDemoKeys(app: App, dataDir: string): Promise<DemoKey[]> {
  const file = join(dataDir, "demo-keys.json");
  let saved: DemoKey[] = [];
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
    if (Array.isArray(parsed)) saved = parsed as DemoKey[];
  } catch {
    // No file yet (or unreadable): create every key.
  }
  const store = new ApiKeyStore(app.ds);
  const out: DemoKey[] = [];
  for (const g of DEMO_GRANTS) {
    const old = saved.find((k) => k && k.role === g.role && k.party === g.party && typeof k.key === "string");
    if (old && API_KEY_PATTERN.test(old.key) && (await store.findActiveByHash(hashApiKey(old.key)))) {
      out.push(old);
      continue;
    }
    const { key } = await store.create({ role: g.role, party: g.party }, "demo (npm start)");
    out.push({ role: g.role, party: g.party, key });
  }
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`, { mode: 0o600 });
  return out;
}

/** `  SUPPLIER (EDFE) key: smi_...`, one line per key. */
export const formatDemoKey = (k: DemoKey) => `  ${k.role}${k.party ? ` (${k.party})` : ""} key: ${k.key}`;
