import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultIdTemplate, IdTemplate, idTemplateProblem } from "../../src/discovery/id-template.js";

describe("id templates", () => {
  it("makes the default id {name}.{region}.{account}, lower-cased, with _ turned into -", () => {
    const template = new IdTemplate(defaultIdTemplate, "acme");
    assert.equal(template.render("Prod_API", "us-west-2"), "prod-api.us-west-2.acme");
    assert.equal(template.render("web", "KR"), "web.kr.acme");
  });

  it("renders other shapes, and leaves what an id may not hold for the id rules to refuse", () => {
    assert.equal(new IdTemplate("{account}-{name}", "acme").render("web", "eu"), "acme-web");
    assert.equal(new IdTemplate("eks.{region}.{name}", "acme").render("Web", "eu-west-1"), "eks.eu-west-1.web");
    assert.equal(new IdTemplate(defaultIdTemplate, "acme").render("has space/é", "eu"), "has space/é.eu.acme");
  });

  for (const [template, problem] of [
    ["{name}.{zone}", /uses \{zone\}; the placeholders are \{name\}, \{region\}, \{account\}/],
    ["{region}.{account}", /must contain \{name\}/],
    ["{name}{region}", /separate its placeholders/],
    ["{name}.{name}", /uses \{name\} twice/],
    ["{name}_{region}", /may hold only lower-case letters, digits/],
    ["Prod-{name}", /may hold only lower-case letters, digits/],
    ["{name", /unmatched "\{"/],
    ["{name}}", /unmatched "\}"/],
  ] as const) {
    it(`refuses ${template}`, () => assert.match(idTemplateProblem(template) ?? "", problem));
  }

  it("accepts the default and other well-formed templates", () => {
    for (const template of [defaultIdTemplate, "{name}", "{account}-{name}-{region}", "k8s.{name}.x"]) {
      assert.equal(idTemplateProblem(template), undefined, template);
    }
  });

  it("reads an id back into the name and the region as the cloud spells it, only in one of the account's regions", () => {
    const template = new IdTemplate(defaultIdTemplate, "acme", ["us-west-2", "KR", "eu-west-1"]);
    assert.deepEqual(template.parse("web.us-west-2.acme"), { name: "web", region: "us-west-2" });
    assert.deepEqual(template.parse("web.kr.acme"), { name: "web", region: "KR" }, "the region as the cloud spells it");
    assert.deepEqual(template.parse("a.b.eu-west-1.acme"), { name: "a.b", region: "eu-west-1" });
    assert.equal(template.parse("web.ap-south-1.acme"), undefined, "not a region of the account");
    assert.equal(template.parse("web.us-west-2.other"), undefined, "another account");
    assert.equal(template.parse("us-west-2.acme"), undefined, "no name");
  });

  it("reads any region-shaped part back when the account's regions are open, and nothing without {region}", () => {
    const open = new IdTemplate("{name}-{region}.{account}", "acme");
    assert.deepEqual(open.parse("web-us-central1-a.acme"), { name: "web", region: "us-central1-a" });
    assert.equal(new IdTemplate("{name}.{account}", "acme", ["eu"]).parse("web.acme"), undefined);
    assert.equal(new IdTemplate(defaultIdTemplate, "acme", []).parse("web.eu.acme"), undefined, "an account without regions");
  });
});
