// tsc --strict over what a user writes with a policy kept in a JSON file, `using`
// (lib esnext.disposable, which `using` itself needs), and the framework
// integrations. Lines marked @ts-expect-error must stay errors.
import policyJson from "./policy.json";
import { Engine, KeySet, Realm, definePolicy, type PolicyDocument } from "tessera-policy";
import { Engine as CoreEngine } from "tessera-policy/core";
import { tessera as expressGuard } from "tessera-policy/express";
import fastifyPlugin from "tessera-policy/fastify";

// A JSON import types `version` as number and `access` as string: definePolicy takes it.
const policy: PolicyDocument = definePolicy(policyJson);
{
  using engine = new Engine(policy);
  engine.authorizeOperation(null, "GET /api/v1/devices");
}
using core = new CoreEngine(definePolicy(policyJson));
using prepared = core.prepare({ id: "u-1", roles: ["user"] });
void prepared.isAllowed("read", "device");

// The realm section is part of the document.
const withRealm: PolicyDocument = { version: 1, realm: { bootstrap_role: "owner", default_role: "user" } };
using realm = new Realm(withRealm, { kty: "oct", k: "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI" });

// The integrations take the engine or realm the app made.
const guard = expressGuard({ realm, owners: (req) => (req.params?.id === "d-1" ? "u-1" : null), unknown: "pass" });
void guard.prefilter;
// Provider JWTs without a realm: a KeySet, a JWKS value or its JSON text.
using jwtEngine = new Engine(policy);
expressGuard({ engine: jwtEngine, keys: KeySet.cognito("us-east-1", "us-east-1_Example") });
expressGuard({ engine: jwtEngine, keys: { keys: [] } });
expressGuard({ engine: jwtEngine, keys: '{"keys": []}' });
void fastifyPlugin;
void core;

// @ts-expect-error: the policy version is still 1 when written by hand
new Engine({ version: 2 });
// @ts-expect-error: unknown is "not_found" or "pass"
expressGuard({ realm, unknown: "ignore" });
// @ts-expect-error: keys is a KeySet, a JWKS or its text, not a number
expressGuard({ engine: jwtEngine, keys: 42 });
