#!/usr/bin/env node
// The `cluster-token` command's entry point. A cached credential (what kubectl asks for on every run) is
// answered here, in CommonJS, without loading the ESM command modules; everything else goes to them.
import cache = require("./credential-cache.cjs");

const [command, ...args] = process.argv.slice(2);
const cached = command === "credential" ? cache.cachedCredentialFor(args, process.env) : undefined;
if (cached !== undefined) process.stdout.write(`${cached}\n`);
else void import("./cluster-token.js");
