// The Node half of run.py: the same documents, the same measurements.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const { Engine } = await import(fileURLToPath(new URL("../../bindings-wasm/pkg/dist/node.mjs", import.meta.url)));
const p = JSON.parse(process.argv[2]);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const timed = (f) => {
  const s = cpu();
  f();
  return cpu() - s;
};
// Each input is read just before its measurement, so the JS heap holds no
// other large document while it runs (as in the Python half).
const out = {};
const token = readFileSync(p.token, "utf8");
let text = readFileSync(p.policy, "utf8");
out.policy_text = timed(() => new Engine(text));
let value = JSON.parse(text);
text = undefined;
out.policy_value = timed(() => new Engine(value));
value = undefined;
const policy = JSON.parse(readFileSync(p.jwt_policy, "utf8"));
const jwksText = readFileSync(p.jwks, "utf8");
out.jwks_text = timed(() => new Engine(policy).verifyJwtSync(token, jwksText, 1_700_000_000));
const jwks = JSON.parse(jwksText);
out.jwks_value = timed(() => new Engine(policy).verifyJwtSync(token, jwks, 1_700_000_000));
console.log(JSON.stringify(out));
