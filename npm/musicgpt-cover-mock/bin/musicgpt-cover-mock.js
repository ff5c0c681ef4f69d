#!/usr/bin/env node
// Runs the mock's binary for this platform with this command's arguments, terminal and signals,
// and exits as it exits. The binary is in the platform's own package, which npm installed beside
// this one as an optional dependency (platforms.json names it), or wherever the environment
// variable below says. No dependencies: plain Node.
"use strict";

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");

const manifest = require("../package.json");
const { binaryEnv, platforms } = require("../platforms.json");

const name = manifest.name;
const repository = manifest.repository.url.replace(/^git\+/, "").replace(/\.git$/, "");

function fail(lines) {
  process.stderr.write(`${name}: ${lines.join("\n")}\n`);
  process.exit(1);
}

const buildIt = (lead) => [
  `${lead} with Rust (https://rustup.rs):`,
  `  cargo install --locked --git ${repository} ${name}`,
  "or from a clone of that repository:",
  `  cargo build --release -p ${name}    # then target/release/${name}`,
  `and run it directly, or through this command with ${binaryEnv}=/path/to/${name}.`,
];

function binaryPath() {
  const override = process.env[binaryEnv];
  if (override) {
    if (!fs.existsSync(override)) {
      fail([`${binaryEnv} is ${override}, which does not exist.`]);
    }
    return override;
  }
  const key = `${process.platform}-${process.arch}`;
  const platform = platforms[key];
  if (!platform) {
    fail([
      `there is no prebuilt binary for this platform (${key}); there is one for ` +
        `${Object.keys(platforms).join(", ")}.`,
      ...buildIt("Build it"),
    ]);
  }
  try {
    return require.resolve(`${platform.package}/${platform.binary}`);
  } catch {
    return fail([
      `the binary for ${key} comes in the package ${platform.package}, which is not installed.`,
      "npm installs it by itself as an optional dependency of this package; it is missing when",
      "optional dependencies were left out (--omit=optional, --no-optional) or node_modules was",
      "installed on another platform. Install again without those, or:",
      `  npm install ${platform.package}@${manifest.version}`,
      ...buildIt("Or build it"),
    ]);
  }
}

const binary = binaryPath();
const child = spawn(binary, process.argv.slice(2), { stdio: "inherit" });

// Passed on, so that a test runner or a process manager stopping this command stops the mock
// (which then answers the requests in flight and exits). A terminal's Ctrl-C reaches the mock
// directly too; a second SIGINT changes nothing there. On Windows the console's Ctrl-C reaches
// the mock by itself and child.kill would end it abruptly, so there the signals are only held.
const forwarded = ["SIGINT", "SIGTERM", "SIGHUP"];
const relays = forwarded.map((signal) => {
  const relay = () => {
    if (process.platform !== "win32") {
      child.kill(signal);
    }
  };
  process.on(signal, relay);
  return [signal, relay];
});

child.on("error", (error) => {
  const lines = [`could not start ${binary}: ${error.message}`];
  if (error.code === "ENOENT" && process.platform === "linux") {
    lines.push("The Linux binaries need glibc: on Alpine and other musl systems, build the mock.");
    lines.push(...buildIt("Build it"));
  }
  fail(lines);
});

child.on("exit", (code, signal) => {
  if (signal) {
    // Ended by a signal: end the same way, so the caller sees what the mock saw.
    for (const [forwardedSignal, relay] of relays) {
      process.removeListener(forwardedSignal, relay);
    }
    process.kill(process.pid, signal);
    // Reached only for a signal Node ignores (SIGPIPE): the shell's convention for it.
    process.exit(128 + (os.constants.signals[signal] || 0));
  }
  process.exit(code);
});
