import { spawnSync } from "node:child_process";
import path from "node:path";
import { ConfigError, loadConfig } from "../../src/config";

const BIN = path.resolve(__dirname, "../../bin/smi-gateway.js");

describe("configuration", () => {
  it("has working defaults with nothing set", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      NODE_ENV: "development",
      PORT: 4000,
      HOST: "0.0.0.0",
      DATA_DIR: ".data",
      DB_POOL_SIZE: 20,
      READ_REPLICA_URLS: [],
      WHITELISTED_POLICY: "I",
      LOG_LEVEL: "info",
      production: false,
    });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it("parses values: numbers, lists, maps; an empty value counts as unset", () => {
    const c = loadConfig({
      PORT: "8080",
      DB_POOL_SIZE: "5",
      READ_REPLICA_URLS: " postgres://r1/db , postgresql://r2/db ",
      EXTRA_DISTRIBUTORS: "24:IPNL,25:ESTN",
      NODE_ENV: "production",
      DATA_DIR: "",
    });
    expect(c.PORT).toBe(8080);
    expect(c.DB_POOL_SIZE).toBe(5);
    expect(c.READ_REPLICA_URLS).toEqual(["postgres://r1/db", "postgresql://r2/db"]);
    expect(c.EXTRA_DISTRIBUTORS).toEqual({ "24": "IPNL", "25": "ESTN" });
    expect(c.production).toBe(true);
    expect(c.DATA_DIR).toBe(".data");
  });

  it("is frozen: nothing can change it after start-up", () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { PORT: number }).PORT = 1;
    }).toThrow(TypeError);
    expect(c.PORT).toBe(4000);
  });

  it.each([
    ["PORT", "abc", /PORT: .*expected number.*; got "abc"/],
    ["PORT", "70000", /PORT: .*expected number to be <=65535; got "70000"/],
    ["DB_POOL_SIZE", "0", /DB_POOL_SIZE: .*expected number to be >=1; got "0"/],
    ["NODE_ENV", "prod", /NODE_ENV: .*expected one of "development"\|"production"\|"test"; got "prod"/],
    ["WHITELISTED_POLICY", "A", /WHITELISTED_POLICY: .*expected one of "I"\|"IGNORE"; got "A"/],
    ["LOG_LEVEL", "verbose", /LOG_LEVEL: .*expected one of .*; got "verbose"/],
    [
      "DATABASE_URL",
      "mysql://db/x",
      /DATABASE_URL: expected a postgres:\/\/ or postgresql:\/\/ URL; got "mysql:\/\/db\/x"/,
    ],
    [
      "READ_REPLICA_URLS",
      "postgres://r1/db,http://r2",
      /READ_REPLICA_URLS \(item 2\): expected comma-separated postgres:\/\/ URLs; got "postgres:\/\/r1\/db,http:\/\/r2"/,
    ],
    ["EXTRA_DISTRIBUTORS", "24-IPNL", /EXTRA_DISTRIBUTORS: expected comma-separated pairs like 24:IPNL/],
    [
      "D0350_GROUP_ID",
      "dsf1",
      /D0350_GROUP_ID: expected a three-character DTC group id such as DSF; got "dsf1"/,
    ],
    ["INTROSPECTION", "yes", /INTROSPECTION: .*expected one of .*"true".*; got "yes"/],
  ])("rejects %s=%j naming the variable, what was expected and what was got", (name, value, message) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^invalid configuration:\n/);
    expect((error as Error).message).toMatch(message);
  });

  it("reports every bad variable at once", () => {
    expect(() => loadConfig({ PORT: "x", DB_POOL_SIZE: "-1" })).toThrow(/PORT: [^\n]*\n {2}DB_POOL_SIZE: /);
  });

  it("never prints a password from a connection string", () => {
    expect(() => loadConfig({ DATABASE_URL: "postgre://smi:hunter2@db/x" })).toThrow(
      /got "postgre:\/\/smi:\*\*\*@db\/x"/,
    );
    let message = "";
    try {
      loadConfig({ READ_REPLICA_URLS: "postgres://smi:hunter2@db/x,pg://smi:hunter3@db/x" });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/READ_REPLICA_URLS \(item 2\)/);
    expect(message).not.toMatch(/hunter/);
  });
});

describe("a bad configuration at start-up", () => {
  const run = (args: string[], env: Record<string, string>) =>
    spawnSync(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH, ...env },
      encoding: "utf8",
      timeout: 60_000,
    });

  it("stops `serve` with exit code 2 and a message naming the variable, before touching any database", () => {
    const r = run(["serve"], { PORT: "abc", DATA_DIR: "/nonexistent/never-created" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/invalid configuration:\n {2}PORT: .*; got "abc"/);
    expect(r.stdout).toBe("");
  });

  it.each([["migrate"], ["keys", "list"], ["ingest", "-"], ["seed", "--meter-points", "1"]])(
    "stops `%s` the same way",
    (...args: string[]) => {
      const r = run(args, { DB_POOL_SIZE: "0" });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/DB_POOL_SIZE: .*; got "0"/);
    },
  );
});
