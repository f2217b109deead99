import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { parse, stringify } from "yaml";
import { repoRoot } from "../support/paths.js";
import { startServeProcess, type ServeProcess } from "../support/serve-process.js";
import { rawTestConfig, testAwsEnv } from "../support/test-config.js";
import { exposedNames, metricNames } from "./promql-names.js";

const run = promisify(execFile);
const monitoring = join(repoRoot, "deploy", "kubernetes", "components", "monitoring");

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: { groups: { name: string; rules: Rule[] }[] };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string }[];
}

const ruleFile = parse(readFileSync(join(monitoring, "prometheus-rule.yaml"), "utf8")) as RuleFile;
const rules = ruleFile.spec.groups.flatMap((group) => group.rules);
const recorded = new Set(rules.flatMap((rule) => (rule.record ? [rule.record] : [])));
const dashboard = JSON.parse(readFileSync(join(monitoring, "grafana-dashboard.json"), "utf8")) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
};
const panelExprs = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel, expr: target.expr })));

/** The PromQL block of docs/operations.md (Metrics): each query with its comment, continuation lines joined. */
function documentedQueries(): { title: string; expr: string }[] {
  const page = readFileSync(join(repoRoot, "docs", "operations.md"), "utf8");
  const block = /```promql\n([\s\S]*?)```/.exec(page)?.[1];
  assert.ok(block, "docs/operations.md has a promql block");
  const queries: { title: string; expr: string }[] = [];
  for (const line of block.split("\n").filter((l) => l.trim() !== "")) {
    if (line.startsWith("#")) queries.push({ title: line.slice(1).trim(), expr: "" });
    else queries.at(-1)!.expr += ` ${line.trim()}`;
  }
  return queries;
}

const promtool = await run("sh", ["-c", "command -v promtool"]).then(
  () => undefined,
  () => "promtool is not installed",
);
if (promtool && process.env.CTS_REQUIRE_PROMTOOL === "1") throw new Error(`CTS_REQUIRE_PROMTOOL=1, but ${promtool}`);

describe("monitoring: the dashboard and the alert rules read only what the service exports", () => {
  let svc: ServeProcess;
  let exported: Set<string>;
  before(async () => {
    const raw = rawTestConfig() as { listen: Record<string, string> };
    raw.listen.metrics = "127.0.0.1:0";
    svc = await startServeProcess(raw, {
      env: testAwsEnv,
    });
    const serving = svc.lines().find((line) => line.msg === "serving")!;
    const response = await fetch(`http://${String(serving.metrics)}/metrics`);
    assert.equal(response.status, 200);
    exported = exposedNames(await response.text());
  });
  after(() => svc?.child.kill("SIGKILL"));

  it("finds the metric names of a PromQL expression, and nothing else", () => {
    assert.deepEqual(
      metricNames(
        'histogram_quantile(0.99, sum by (le, grpc_method) (rate(grpc_server_handling_seconds_bucket{grpc_code!="OK",x=~"a|b"}[$__rate_interval])))',
      ),
      ["grpc_server_handling_seconds_bucket"],
    );
    assert.deepEqual(metricNames("a_total / on (pod) group_left(x) b:rec:rate5m > 1e3 and sum without (le) (c) offset 5m unless bool d"), [
      "a_total",
      "b:rec:rate5m",
      "c",
      "d",
    ]);
    assert.ok(exported.has("grpc_server_handling_seconds_bucket") && exported.has("cluster_token_audit_failures_total"));
    assert.ok(!exported.has("up"), "series that Prometheus makes itself are not exported");
  });

  it("the rules file is a PrometheusRule whose rules are well formed", () => {
    assert.equal(ruleFile.apiVersion, "monitoring.coreos.com/v1");
    assert.equal(ruleFile.kind, "PrometheusRule");
    assert.ok(ruleFile.spec.groups.length > 0);
    const alerts = rules.filter((rule) => rule.alert);
    assert.ok(alerts.length >= 5 && recorded.size >= 4);
    assert.equal(new Set(alerts.map((rule) => rule.alert)).size, alerts.length, "alert names are unique");
    for (const rule of rules) {
      assert.ok(Boolean(rule.alert) !== Boolean(rule.record), "a rule is an alert or a recording rule");
      assert.equal(typeof rule.expr, "string");
      if (rule.record) assert.match(rule.record, /^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/, "level:metric:operations");
      if (rule.alert) {
        assert.match(rule.alert, /^ClusterToken[A-Za-z]+$/);
        assert.ok(["critical", "warning", "info"].includes(rule.labels?.severity ?? ""), `${rule.alert} has a severity`);
        assert.ok(rule.annotations?.summary && rule.annotations.description, `${rule.alert} says what and why`);
        if (rule.for !== undefined) assert.match(rule.for, /^\d+[smh]$/);
      }
    }
  });

  it("promtool accepts the rule groups", {
    skip: promtool ? `SKIPPED: ${promtool} (apt-get install prometheus; CI does)` : false,
  }, async () => {
    const file = join(await mkdtemp(join(tmpdir(), "cts-rules-")), "rules.yaml");
    await writeFile(file, stringify(ruleFile.spec));
    const { stdout } = await run("promtool", ["check", "rules", file], { timeout: 30_000 });
    assert.match(stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  });

  it("every metric the rules read is one the service exports, or one they record", () => {
    for (const rule of rules) {
      for (const name of metricNames(rule.expr)) {
        assert.ok(exported.has(name) || recorded.has(name), `${rule.alert ?? rule.record} reads ${name}, which nothing exports`);
      }
    }
  });

  it("every metric the dashboard reads is one the service exports", () => {
    assert.ok(panelExprs.length >= 10);
    for (const { panel, expr } of panelExprs) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JavaScript template
      assert.equal(panel.datasource?.uid, "${datasource}", `${panel.title} uses the dashboard's datasource variable`);
      const names = metricNames(expr);
      assert.ok(names.length > 0, `${panel.title} reads some metric`);
      for (const name of names) assert.ok(exported.has(name), `panel "${panel.title}" reads ${name}, which the service does not export`);
    }
    for (const variable of dashboard.templating.list.filter((v) => v.type === "query")) {
      const query = typeof variable.query === "string" ? variable.query : variable.query.query;
      const metric = /^label_values\(([^,]+),/.exec(query)?.[1] ?? query;
      for (const name of metricNames(metric)) assert.ok(exported.has(name), `variable ${variable.name} reads ${name}`);
    }
    assert.equal(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length, "panel ids are unique");
  });

  it("the dashboard and the rules cover every query of the PromQL in docs/operations.md", () => {
    const queries = documentedQueries();
    assert.equal(queries.length, 5);
    for (const { title, expr } of queries) {
      const wanted = metricNames(expr);
      const covers = (names: string[]) => wanted.every((name) => names.includes(name));
      assert.ok(
        panelExprs.some(({ expr: e }) => covers(metricNames(e))),
        `a dashboard panel shows "${title}"`,
      );
      assert.ok(
        rules.some((rule) => covers(metricNames(rule.expr))),
        `a rule records or alerts on "${title}"`,
      );
    }
  });
});
