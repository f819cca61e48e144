import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createTestDatabase } from "../support/harness";

/**
 * The command line as a user meets it: `node bin/smi-gateway.js ...` in a child process, with
 * exit codes 0 (done), 1 (the command failed) and 2 (bad usage or configuration).
 */
const BIN = path.resolve(__dirname, "../../bin/smi-gateway.js");

function cli(args: string[], env: Record<string, string> = {}, input?: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, LOG_LEVEL: "warn", ...env },
    encoding: "utf8",
    input,
    timeout: 120_000,
  });
}

const COMMANDS: [string[], RegExp][] = [
  [[], /Usage: smi-gateway \[options\] \[command\]/],
  [["serve"], /Usage: smi-gateway serve \[options\]/],
  [["migrate"], /Usage: smi-gateway migrate/],
  [["ingest"], /Usage: smi-gateway ingest \[options\] <file>/],
  [["seed"], /Usage: smi-gateway seed \[options\]/],
  [["export-flows"], /Usage: smi-gateway export-flows \[options\]/],
  [["reconcile"], /Usage: smi-gateway reconcile \[options\] <file>/],
  [["keys"], /Usage: smi-gateway keys \[options\] \[command\]/],
  [["keys", "create"], /Usage: smi-gateway keys create \[options\]/],
  [["keys", "list"], /Usage: smi-gateway keys list/],
  [["keys", "revoke"], /Usage: smi-gateway keys revoke \[options\] <id>/],
];

describe("smi-gateway --help", () => {
  it("lists every command", () => {
    const r = cli(["--help"]);
    expect(r.status).toBe(0);
    for (const c of ["serve", "migrate", "ingest", "seed", "export-flows", "reconcile", "keys"])
      expect(r.stdout).toMatch(new RegExp(`^ {2}${c}\\b`, "m"));
    expect(r.stdout).toMatch(/Exit codes: 0 done, 1 the command failed, 2 bad usage or configuration/);
  });

  it.each(COMMANDS)("%j --help prints its usage and exits 0, without a database", (args, usage) => {
    // DATA_DIR that cannot exist: help must not start (or even look for) a database.
    const r = cli([...args, "--help"], { DATA_DIR: "/nonexistent/never-created" });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(usage);
    expect(r.stderr).toBe("");
  });
});

describe("exit codes", () => {
  let db: { url: string; drop(): Promise<void> };
  let dir: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(path.join(os.tmpdir(), "smi-cli-"));
    chmodSync(dir, 0o755); // as root, the embedded server runs as the postgres user
  });
  afterAll(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["migrate", "--force"], /unknown option '--force'/],
    [["ingest"], /missing required argument 'file'/],
    [["ingest", "x.ndjson", "--batch-size", "0"], /expected --batch-size as a positive integer, got "0"/],
    [["seed"], /required option '--meter-points <n>' not specified/],
    [["seed", "--meter-points", "many"], /expected --meter-points as a positive integer, got "many"/],
    [["export-flows"], /required option '--out <dir>' not specified/],
    [["reconcile"], /missing required argument 'file'/],
    [["keys", "create"], /required option '--role <role>' not specified/],
    [["keys", "create", "--role", "BOSS"], /expected one of .*DCC.*, got "BOSS"/],
    [["keys", "create", "--role", "SUPPLIER"], /party/i],
    [["keys", "revoke", "not-a-uuid"], /expected a key id/],
  ])("%j is bad usage: exit 2 with a message on stderr, before touching the database", (args, message) => {
    const r = cli(args, { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" });
    expect(r.stderr).toMatch(message);
    expect(r.status).toBe(2);
  });

  it("exits 1 with a one-line error when the database cannot be reached", () => {
    const r = cli(["migrate"], { DATABASE_URL: "postgres://nobody:secret-pw@127.0.0.1:1/none" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: .*ECONNREFUSED/m);
    expect(r.stderr).not.toContain("secret-pw");
  });

  it.each([["ingest"], ["reconcile"]])("%s exits 1 when the input file does not exist", (command) => {
    const r = cli(
      [command, path.join(dir, "missing.file"), "--out", dir].slice(0, command === "ingest" ? 2 : 4),
      {
        DATABASE_URL: db.url,
      },
    );
    expect(r.stderr).toMatch(/^error: .*ENOENT/m);
    expect(r.stderr).not.toMatch(/Unhandled 'error' event/);
    expect(r.status).toBe(1);
  });

  it("exits 1 on failure also when it started the embedded PostgreSQL itself (and stops it)", () => {
    const dataDir = path.join(dir, "embedded");
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const r = cli(["ingest", path.join(dir, "missing.ndjson")], {
      DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: port,
    });
    expect(r.stderr).toMatch(/^error: .*ENOENT/m);
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(/TypeError/);
    expect(existsSync(path.join(dataDir, "pg", "postmaster.pid"))).toBe(false);
  });

  it("exits 0 on success, with the result on stdout: migrate, ingest, seed, export-flows, reconcile, keys", () => {
    const env = { DATABASE_URL: db.url };
    const migrate = cli(["migrate"], env);
    expect(migrate.status).toBe(0);
    expect(migrate.stdout).toMatch(/no pending migrations/);

    const events = [
      {
        eventId: "c1",
        occurredAt: "2026-03-01T09:00:00Z",
        type: "MeterPointRegistered",
        mpxn: "1312345678907",
      },
      {
        eventId: "c2",
        occurredAt: "2026-03-01T09:01:00Z",
        type: "DeviceRegistered",
        deviceId: "BC-33-AC-FF-FE-FA-55-3D",
        deviceType: "ESME",
      },
      {
        eventId: "c3",
        occurredAt: "2026-03-01T09:02:00Z",
        type: "DeviceAssociated",
        deviceId: "BC-33-AC-FF-FE-FA-55-3D",
        mpxn: "1312345678907",
      },
      {
        eventId: "c4",
        occurredAt: "2026-03-01T09:03:00Z",
        type: "DeviceStatusChanged",
        deviceId: "BC-33-AC-FF-FE-FA-55-3D",
        status: "Commissioned",
      },
    ];
    const ingest = cli(
      ["ingest", "-", "--rejects", path.join(dir, "rejects.ndjson")],
      env,
      events.map((e) => JSON.stringify(e)).join("\n"),
    );
    expect(ingest.status).toBe(0);
    expect(JSON.parse(ingest.stdout.trim().split("\n").pop()!)).toMatchObject({
      lines: 4,
      applied: 4,
      rejected: 0,
      transitions: 1,
    });

    const seed = cli(["seed", "--meter-points", "20"], env);
    expect(seed.status).toBe(0);
    expect(JSON.parse(seed.stdout.trim().split("\n").pop()!)).toMatchObject({
      rejected: 0,
      events: expect.any(Number),
    });

    const exported = cli(["export-flows", "--out", path.join(dir, "flows")], env);
    expect(exported.status).toBe(0);
    const summary = JSON.parse(exported.stdout.trim().split("\n").pop()!) as {
      files: { recipient: string }[];
    };
    expect(summary.files.map((f) => f.recipient)).toContain("MANW");

    writeFileSync(path.join(dir, "registration.csv"), "mpxn,flag\n1312345678907,N\n");
    const reconciled = cli(
      ["reconcile", path.join(dir, "registration.csv"), "--out", path.join(dir, "rec")],
      env,
    );
    expect(reconciled.status).toBe(0);

    const created = cli(["keys", "create", "--role", "DCC", "--label", "cli test"], env);
    expect(created.status).toBe(0);
    const listed = cli(["keys", "list"], env);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(/DCC\s+-\s+cli test/);
    expect(listed.stdout).not.toContain(created.stdout.trim().split("\n").pop()!);
  });
});
