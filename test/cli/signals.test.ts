import assert from "node:assert/strict";
import { execFile, execFileSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, open } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { stringify } from "yaml";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { freePort } from "../support/free-port.js";
import { startServeProcess } from "../support/serve-process.js";
import { rawTestConfig, testAwsEnv } from "../support/test-config.js";

const signalsModule = new URL("../../src/cli/serve-signals.cjs", import.meta.url).pathname;

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

/** Runs `script` in a fresh Node with `nodeArgs`, and returns what it printed. */
async function node(script: string, nodeArgs: string[] = []): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [...nodeArgs, "-e", script], { env: { PATH: process.env.PATH } });
  return stdout.trim();
}

describe("cluster-token serve: signals", () => {
  it("SIGUSR1, by kill or by process._debugProcess from another Node, opens no debugger; the service keeps serving", async () => {
    // Node opens its inspector on SIGUSR1 at --inspect-port (9229 by default); a port of this test's own keeps
    // the check true whatever else on the machine uses 9229.
    const inspectPort = await freePort();
    const svc = await startServeProcess(rawTestConfig(), {
      env: { ...testAwsEnv, NODE_OPTIONS: `--inspect-port=127.0.0.1:${inspectPort}` },
    });
    const client = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
    const pid = svc.child.pid!;
    try {
      const senders = [() => svc.child.kill("SIGUSR1"), () => execFileSync(process.execPath, ["-e", `process._debugProcess(${pid})`])];
      for (const [i, send] of senders.entries()) {
        const before = svc.lines().length;
        send();
        const line = await svc.waitForLine((l) => l.signal === "SIGUSR1", 5_000, before);
        assert.equal(line.msg, "SIGUSR1 received; it never opens a debugger");
        assert.equal(await accepts(inspectPort), false, `nothing listens on the inspector's port after SIGUSR1 #${i + 1}`);
        assert.match((await client.generateToken({ clusterId: "demo-eks" })).status?.token ?? "", /^k8s-aws-v1\./);
      }
      assert.doesNotMatch(svc.stderr(), /Debugger listening/);
      assert.equal(svc.child.exitCode, null, "still running");
    } finally {
      svc.child.kill("SIGKILL");
      await svc.exited();
    }
  });

  it("SIGHUP while starting (here: while the config file is still being read) is ignored with a log line; start-up goes on", async () => {
    const fifo = join(await mkdtemp(join(tmpdir(), "cts-signals-")), "config.yaml");
    execFileSync("mkfifo", [fifo]);
    let child: ChildProcessWithoutNullStreams | undefined;
    const starting = startServeProcess(undefined, { configFile: fifo, env: testAwsEnv, spawned: (spawned) => (child = spawned) });
    // Opening a FIFO to write returns once a reader has opened it: the server is reading its config.
    const writer = await open(fifo, "w");
    child!.kill("SIGHUP");
    await writer.writeFile(stringify(rawTestConfig()));
    await writer.close();
    const svc = await starting;
    try {
      const ignored = await svc.waitForLine((l) => l.signal === "SIGHUP", 5_000);
      assert.equal(ignored.msg, "SIGHUP ignored: the service is starting");
      assert.equal(ignored.phase, "starting");
      const client = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
      assert.deepEqual(
        (await client.listClusters({})).clusters.map((c) => c.id),
        ["demo-eks", "no-endpoint"],
      );
      assert.ok(!svc.lines().some((l) => String(l.msg).startsWith("config reload")), "no reload was attempted");
    } finally {
      svc.child.kill("SIGKILL");
      await svc.exited();
    }
  });

  it("closes an inspector that a SIGUSR1 opened before the handlers were installed, and keeps one that --inspect asked for", async () => {
    const openThenGuard = `
      const inspector = require("node:inspector");
      inspector.open(0, "127.0.0.1");
      const opened = inspector.url() !== undefined;
      require(${JSON.stringify(signalsModule)}).guard();
      console.log(JSON.stringify({ opened, after: inspector.url() ?? null }));
      inspector.close();`;
    assert.deepEqual(JSON.parse(await node(openThenGuard)), { opened: true, after: null });
    const askedFor = `
      require(${JSON.stringify(signalsModule)}).guard();
      const url = require("node:inspector").url();
      console.log(JSON.stringify({ open: url !== undefined }));
      require("node:inspector").close();`;
    assert.deepEqual(JSON.parse(await node(askedFor, ["--inspect=127.0.0.1:0"])), { open: true });
  });
});
