import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "pg";
import { type App, openApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { createLogger } from "../../src/logger";
import { Role } from "../../src/domain/access";
import { ApiKeyStore } from "../../src/persistence/apiKeyStore";
import { StatementCounter } from "../../src/persistence/dataSource";
import { type RunningServer, startServer } from "../../src/graphql/server";

/**
 * A fresh database cloned from the migrated template: each test file gets its own. With
 * `{ migrated: false }` an empty one (for migration tests).
 */
export async function createTestDatabase(
  o: { migrated?: boolean } = {},
): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.SMI_TEST_ADMIN_URL;
  const template = process.env.SMI_TEST_TEMPLATE;
  if (!adminUrl || !template)
    throw new Error("expected jest's globalSetup to have prepared a database server");
  const name = `smi_test_${randomBytes(6).toString("hex")}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}${o.migrated === false ? "" : ` TEMPLATE ${template}`}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** An App (no HTTP server, own pool) on an existing migrated database, as another process would have. */
export async function openAppOn(url: string): Promise<App> {
  const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent" });
  return openApp(config, createLogger("silent"), { databaseUrl: url, migrate: false });
}

/** An App (no HTTP server) on a fresh migrated database, for tests of services and the CLI. */
export async function openTestApp(): Promise<{ app: App; url: string; close(): Promise<void> }> {
  const db = await createTestDatabase();
  const app = await openAppOn(db.url);
  return {
    app,
    url: db.url,
    async close() {
      await app.close();
      await db.drop();
    },
  };
}

export interface TestApp {
  readonly app: App;
  readonly counter: StatementCounter;
  readonly server: RunningServer;
  readonly url: string;
  /** The DCC key every `gql` call sends unless its headers say otherwise. */
  readonly dccKey: string;
  /** Creates an API key (through the same store as the CLI) and returns it. */
  createKey(role: Role, party?: string | null): Promise<string>;
  /** Creates a key and returns it with its id (for revocation). */
  createKeyRecord(role: Role, party?: string | null): Promise<{ key: string; id: string }>;
  revokeKey(id: string): Promise<void>;
  /** `{ authorization: "Bearer <key>" }` */
  bearer(key: string): Record<string, string>;
  /** A raw request to the GraphQL endpoint (for non-GraphQL bodies); the DCC key unless overridden. */
  fetch(init: RequestInit & { headers?: Record<string, string> }): Promise<Response>;
  /** POSTs a GraphQL operation and returns the parsed body and status (as DCC unless headers override). */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{
    status: number;
    body: {
      data?: T;
      errors?: {
        message: string;
        path?: (string | number)[];
        extensions?: { code?: string; [k: string]: unknown };
      }[];
    };
  }>;
  close(): Promise<void>;
}

/**
 * A server (port 0) on a fresh migrated database. `readReplicas` opens `env.READ_REPLICA_URLS` as
 * `serve` does (off by default, as for the CLI).
 */
export async function startTestApp(
  env: Record<string, string> = {},
  o: { readReplicas?: boolean } = {},
): Promise<TestApp> {
  const db = await createTestDatabase();
  const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent", ...env });
  const counter = new StatementCounter(true);
  const app = await openApp(config, createLogger("silent"), {
    databaseUrl: db.url,
    counter,
    migrate: false,
    readReplicas: o.readReplicas,
  }).catch(async (e: unknown) => {
    await db.drop();
    throw e;
  });
  const server = await startServer(app, { port: 0, host: "127.0.0.1" });
  const keys = new ApiKeyStore(app.ds);
  const dccKey = (await keys.create({ role: Role.DCC, party: null }, "test harness")).key;
  const auth = { authorization: `Bearer ${dccKey}` };
  return {
    app,
    counter,
    server,
    url: server.url,
    dccKey,
    async createKey(role, party = null) {
      return (await keys.create({ role, party }, "test")).key;
    },
    async createKeyRecord(role, party = null) {
      const { key, record } = await keys.create({ role, party }, "test");
      return { key, id: record.id };
    },
    async revokeKey(id) {
      await keys.revoke(id);
    },
    bearer: (key) => ({ authorization: `Bearer ${key}` }),
    fetch: (init) => fetch(server.url, { ...init, headers: { ...auth, ...defaultHeaders, ...init.headers } }),
    async gql(query, variables, headers = {}) {
      const res = await fetch(server.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...auth, ...defaultHeaders, ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: (await res.json()) as never };
    },
    async close() {
      await server.stop();
      await app.close();
      await db.drop();
    },
  };
}

/** Headers every test request carries unless overridden (set by the auth harness). */
export const defaultHeaders: Record<string, string> = {};

/**
 * A maker of scratch directories (`prefix` + random suffix in the OS temp dir), all removed when the
 * test file ends. Call it at module or describe level, where jest accepts `afterAll`.
 */
export function scratchDirs(prefix: string): () => string {
  const made: string[] = [];
  afterAll(() => {
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(path.join(tmpdir(), prefix));
    made.push(d);
    return d;
  };
}
