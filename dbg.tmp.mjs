const { createClient } = await import("@connectrpc/connect");
const { createGrpcTransport } = await import("@connectrpc/connect-node");
const { Health } = await import("/work/main/dist/gen/health/v1/health_pb.js");
const fs = await import("node:fs");
const ca = fs.readFileSync(process.argv[2]);
const health = createClient(Health, createGrpcTransport({ baseUrl: `https://127.0.0.1:51051`, nodeOptions: { ca } }));
const t = performance.now();
try { console.log(await health.check({ service: "" }, { timeoutMs: 2000 }), performance.now() - t); } catch (e) { console.log("err", e.message, performance.now() - t); }
process.exit(0);
