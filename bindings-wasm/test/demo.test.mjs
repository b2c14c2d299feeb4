// The browser demo (examples/browser) in headless Chromium: pick users, paste
// tokens, and check which device controls the package enabled.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { serve } from "../testkit/serve.mjs";
import { launch, open } from "../testkit/chromium.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
let server;
let browser;

before(async () => {
  server = await serve({ "/": root + "examples/browser", "/pkg/": root + "bindings-wasm/pkg" });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** `{device: [enabled actions]}` as the page shows it, plus the add button. */
async function shown(page) {
  return page.evaluate(() => {
    const out = { add: !document.getElementById("add").disabled };
    for (const tr of document.querySelectorAll("#devices tr")) {
      out[tr.dataset.device] = [...tr.querySelectorAll("button")].filter((b) => !b.disabled).map((b) => b.dataset.action);
    }
    return out;
  });
}

const EXPECTED = {
  alice: { add: true, d1: ["read", "update", "execute"], d2: [], d3: [], "d-lab": [] },
  bob: { add: true, d1: [], d2: ["read", "update", "execute"], d3: ["update"], "d-lab": [] },
  carol: {
    add: true,
    d1: ["read", "update", "execute", "push", "delete"],
    d2: ["read", "update", "execute", "push", "delete"],
    d3: ["read", "update", "execute", "push", "delete"],
    "d-lab": ["read", "update", "execute", "push"],
  },
  dave: {
    add: false,
    d1: ["read", "execute", "push"],
    d2: ["read", "execute", "push"],
    d3: ["read", "execute", "push"],
    "d-lab": ["read", "execute", "push"],
  },
  erin: { add: false, d1: ["read"], d2: ["read"], d3: ["read"], "d-lab": ["read"] },
  mallory: { add: false, d1: [], d2: [], d3: [], "d-lab": [] },
};

test("picking each user shows the controls the policy allows", async () => {
  const { page, errors } = await open(browser, server.url + "/");
  await page.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 20_000 });
  for (const [user, expected] of Object.entries(EXPECTED)) {
    await page.selectOption("#user", user);
    assert.deepEqual(await shown(page), expected, user);
    assert.match(await page.textContent("#who"), new RegExp(`^${user} \\(picked\\)`));
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test("a pasted access token decides the controls; bad tokens are refused with their code", async () => {
  const { page, errors } = await open(browser, server.url + "/");
  await page.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 20_000 });
  // Issue a token for bob in the page, then switch to erin and paste bob's token.
  await page.selectOption("#user", "bob");
  await page.click("#issue");
  await page.waitForFunction(() => document.querySelector("#token").value !== "");
  const token = await page.inputValue("#token");
  assert.match(token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
  await page.selectOption("#user", "erin");
  assert.deepEqual(await shown(page), EXPECTED.erin);
  await page.fill("#token", token);
  await page.click("#use-token");
  await page.waitForFunction(() => /^Token (accepted|refused)/.test(document.querySelector("#status").textContent));
  assert.match(await page.textContent("#status"), /^Token accepted/);
  assert.deepEqual(await shown(page), EXPECTED.bob);
  assert.match(await page.textContent("#who"), /^bob \(access token\)/);

  // A tampered signature, then garbage.
  const last = token.at(-2) === "A" ? "B" : "A";
  await page.fill("#token", token.slice(0, -2) + last + token.at(-1));
  await page.evaluate(() => (document.querySelector("#status").textContent = ""));
  await page.click("#use-token");
  await page.waitForFunction(() => /^Token/.test(document.querySelector("#status").textContent));
  assert.match(await page.textContent("#status"), /^Token refused: bad_signature/);
  assert.deepEqual(await shown(page), EXPECTED.mallory);
  await page.fill("#token", "not a token");
  await page.evaluate(() => (document.querySelector("#status").textContent = ""));
  await page.click("#use-token");
  await page.waitForFunction(() => /^Token/.test(document.querySelector("#status").textContent));
  assert.match(await page.textContent("#status"), /^Token refused: malformed/);
  assert.equal(await page.getAttribute("#status", "class"), "error");
  assert.deepEqual(errors, []);
  await page.close();
});
