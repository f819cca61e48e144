#!/usr/bin/env node
"use strict";
// The CLI entry point. Runs the compiled code in dist/; builds it first when it is missing
// (a fresh checkout after `npm ci`), so `npx smi-gateway <command>` works straight away.
const { existsSync } = require("node:fs");
const path = require("node:path");
const root = path.resolve(__dirname, "..");
const entry = path.join(root, "dist", "src", "cli", "main.js");
if (!existsSync(entry)) {
  const { execFileSync } = require("node:child_process");
  process.stderr.write("building smi-gateway (first run)...\n");
  execFileSync(
    process.execPath,
    [require.resolve("typescript/bin/tsc", { paths: [root] }), "-p", path.join(root, "tsconfig.build.json")],
    {
      stdio: "inherit",
    },
  );
}
require("reflect-metadata");
require(entry)
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
