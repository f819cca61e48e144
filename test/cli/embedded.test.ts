import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * The embedded default of SPEC §8, driven as a user would: `serve` with no DATABASE_URL, killed
 * without warning (its PostgreSQL left running, or dead with a stale postmaster.pid), then started
 * again. Each start must come up and answer; Ctrl-C (SIGINT) must stop the server and the database.
 */
const BIN = path.resolve(__dirname, "../../bin/smi-gateway.js");

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("embedded PostgreSQL lifecycle", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "smi-embedded-"));
  chmodSync(dir, 0o755);
  const dataDir = path.join(dir, "data");
  const pgPort = 30000 + Math.floor(Math.random() * 10000);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(pgPort),
    LOAD_DEMO: "false",
    PORT: "0",
    LOG_LEVEL: "warn",
  };
  delete env.DATABASE_URL;
  const postmasterPid = () =>
    Number(readFileSync(path.join(dataDir, "pg", "postmaster.pid"), "utf8").split("\n")[0]);

  afterAll(() => {
    try {
      const pid = postmasterPid();
      if (isAlive(pid)) process.kill(pid, "SIGQUIT");
    } catch {
      /* already gone */
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function serveUntilReady(): Promise<{ child: ChildProcess; output: () => string }> {
    const child = spawn(process.execPath, [BIN, "serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const check = setInterval(() => {
        if (out.includes("smi-gateway ready")) {
          clearInterval(check);
          resolve();
        }
      }, 50);
      child.once("exit", (code) => {
        clearInterval(check);
        reject(new Error(`serve exited with ${code} before ready:\n${out}`));
      });
    });
    return { child, output: () => out };
  }

  const exited = (c: ChildProcess) =>
    new Promise<number | null>((r) =>
      c.exitCode !== null ? r(c.exitCode) : c.once("exit", (code) => r(code)),
    );

  it("starts, and after a SIGKILL adopts the PostgreSQL left running", async () => {
    const first = await serveUntilReady();
    const pg1 = postmasterPid();
    first.child.kill("SIGKILL");
    await exited(first.child);
    expect(isAlive(pg1)).toBe(true); // the postmaster outlives a killed Node

    const second = await serveUntilReady();
    expect(second.output()).toContain("smi-gateway ready");
    second.child.kill("SIGINT");
    expect(await exited(second.child)).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(isAlive(pg1)).toBe(false); // Ctrl-C stopped the adopted database too
  });

  it("recovers from a stale postmaster.pid whose server is dead", async () => {
    const first = await serveUntilReady();
    const pg = postmasterPid();
    first.child.kill("SIGKILL");
    await exited(first.child);
    process.kill(pg, "SIGKILL"); // leaves postmaster.pid behind
    await new Promise((r) => setTimeout(r, 500));
    expect(readFileSync(path.join(dataDir, "pg", "postmaster.pid"), "utf8").length).toBeGreaterThan(0);

    const second = await serveUntilReady();
    second.child.kill("SIGINT");
    expect(await exited(second.child)).toBe(0);
  });

  it("lets a CLI command use the database a running serve holds, without stopping it", async () => {
    const server = await serveUntilReady();
    const r = spawnSync(process.execPath, [BIN, "migrate"], { env, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("no pending migrations");
    expect(isAlive(postmasterPid())).toBe(true);
    server.child.kill("SIGINT");
    expect(await exited(server.child)).toBe(0);
  });
});
