#!/usr/bin/env node
// The `cluster-token` command's entry point. A cached credential (what kubectl asks for on every run) is
// answered here, in CommonJS, without loading the ESM command modules; everything else goes to them.
const [command, ...args] = process.argv.slice(2);
// Before anything else loads: SIGUSR1 must never open Node's inspector, nor SIGHUP end a starting server.
if (command === "serve") (require("./serve-signals.cjs") as typeof import("./serve-signals.cjs")).guard();

import cache = require("./credential-cache.cjs");

const cached = command === "credential" ? cache.cachedCredentialFor(args, process.env) : undefined;
if (cached !== undefined) process.stdout.write(`${cached}\n`);
else void import("./cluster-token.js");
