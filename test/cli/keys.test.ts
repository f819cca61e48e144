import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import path from "node:path";
import { Client } from "pg";
import { createTestDatabase } from "../support/harness";

/** `keys create|list|revoke`, through the real binary, against a migrated test database. */
const BIN = path.resolve(__dirname, "../../bin/smi-gateway.js");

describe("keys CLI", () => {
  let db: { url: string; drop(): Promise<void> };
  let pg: Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });
  afterAll(async () => {
    await pg.end();
    await db.drop();
  });

  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, "keys", ...args], {
      env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: "warn" },
      encoding: "utf8",
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it("creates a key, prints it once alone on the last line, and stores only its hash", async () => {
    const r = run("create", "--role", "SUPPLIER", "--party", "EDFE", "--label", "EDF CRM");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    const key = lines.at(-1)!;
    expect(key).toMatch(/^smi_[A-Za-z0-9_-]{43}$/);
    expect(lines.slice(0, -1).join("\n")).not.toContain(key);
    const rows = (await pg.query("SELECT * FROM api_key")).rows as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      key_hash: createHash("sha256").update(key).digest("hex"),
      role: "SUPPLIER",
      party: "EDFE",
      label: "EDF CRM",
      revoked_at: null,
    });
    expect(JSON.stringify(rows)).not.toContain(key);
  });

  it("creates keys for the unscoped roles without a party", () => {
    for (const role of ["DCC", "COMPARISON_SITE"]) {
      const r = run("create", "--role", role);
      expect(r.code).toBe(0);
      expect(r.stdout.trimEnd().split("\n").at(-1)).toMatch(/^smi_/);
    }
  });

  it("lists keys without showing any key or hash, and revokes one by id", async () => {
    const created = run("create", "--role", "NETWORK_OPERATOR", "--party", "MANW");
    const key = created.stdout.trimEnd().split("\n").at(-1)!;
    const { rows } = await pg.query<{ id: string; key_hash: string }>(
      "SELECT id, key_hash FROM api_key WHERE party = 'MANW'",
    );
    const { id, key_hash } = rows[0]!;

    const list = run("list");
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+NETWORK_OPERATOR\\s+MANW`));
    expect(list.stdout).toMatch(/SUPPLIER\s+EDFE\s+EDF CRM/);
    expect(list.stdout).not.toContain(key);
    expect(list.stdout).not.toContain(key_hash);
    expect(list.stdout).not.toMatch(/smi_/);

    const revoked = run("revoke", id);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/^revoked API key/);
    const after = await pg.query("SELECT revoked_at FROM api_key WHERE id = $1", [id]);
    expect(after.rows[0].revoked_at).toBeInstanceOf(Date);
    // Revoking again changes nothing and still succeeds.
    expect(run("revoke", id).code).toBe(0);
    const again = await pg.query("SELECT revoked_at FROM api_key WHERE id = $1", [id]);
    expect(again.rows[0].revoked_at).toEqual(after.rows[0].revoked_at);
  });

  it.each([
    [
      ["create", "--role", "KING"],
      /expected one of COMPARISON_SITE, SUPPLIER, NETWORK_OPERATOR, DCC, got "KING"/,
    ],
    [["create", "--role", "SUPPLIER"], /expected --party for role SUPPLIER/],
    [["create", "--role", "NETWORK_OPERATOR", "--party", ""], /expected --party for role NETWORK_OPERATOR/],
    [["create", "--role", "SUPPLIER", "--party", "EDFE'; DROP TABLE api_key; --"], /expected a party id/],
    [["create"], /required option '--role <role>' not specified/],
    [["revoke", "not-a-uuid"], /expected a key id \(a uuid/],
    [["revoke", "00000000-0000-4000-8000-000000000000"], /no API key has id/],
  ])("refuses bad input %j with exit code 2 and a clear message", async (args, message) => {
    const before = (await pg.query("SELECT count(*)::int AS n FROM api_key")).rows[0].n as number;
    const r = run(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).not.toMatch(/smi_/);
    expect((await pg.query("SELECT count(*)::int AS n FROM api_key")).rows[0].n).toBe(before);
  });
});
