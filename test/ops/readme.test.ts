import { readFileSync } from "node:fs";
import path from "node:path";
import { CONFIG_VARIABLES, loadConfig } from "../../src/config";

const README = readFileSync(path.resolve(__dirname, "../../README.md"), "utf8");

/** The rows of the README's configuration table (the table after the `config-table` marker). */
function documentedVariables(): string[] {
  const start = README.indexOf("<!-- config-table");
  expect(start).toBeGreaterThan(0);
  const rows: string[] = [];
  const lines = README.slice(start).split("\n");
  // The marker, (a blank line,) the header and the separator, then one row per variable.
  const first = lines.findIndex((l) => /^\| -+/.test(l)) + 1;
  for (const line of lines.slice(first)) {
    const m = /^\| `([A-Z0-9_]+)`\s*\|/.exec(line);
    if (!m) break;
    rows.push(m[1]!);
  }
  return rows;
}

describe("the README", () => {
  it("documents every configuration variable, and none that does not exist", () => {
    expect([...documentedVariables()].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it("gives each variable's default as the code has it, where the table shows a plain value", () => {
    const defaults = loadConfig({}) as unknown as Record<string, unknown>;
    const start = README.indexOf("<!-- config-table");
    let checked = 0;
    for (const line of README.slice(start).split("\n")) {
      const m = /^\| `([A-Z0-9_]+)`\s*\| `([^`]*)`\s*\|/.exec(line);
      if (!m) continue;
      expect([m[1], String(defaults[m[1]!])]).toEqual([m[1], m[2]]);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it("documents every exit code of the CLI", () => {
    for (const code of ["0", "1", "2", "130 / 143"])
      expect(README).toMatch(new RegExp(`^\\| ${code}\\s*\\|`, "m"));
  });
});
