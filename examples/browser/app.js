// The browser demo: pick a user (or paste a provider JWT) and see which device
// controls the policy enables. Every decision comes from tessera-policy; a
// token is checked by `engine.verifyJwt` (the core's checks, WebCrypto's
// signature primitive).
import { Engine, TesseraError } from "tessera-policy";

const policy = await (await fetch(new URL("./policy.json", import.meta.url))).json();
const engine = new Engine(policy);

// A demo-only identity provider key (HS256): the page plays the provider and
// signs its own access tokens with WebCrypto. A real provider signs with its
// private key and the page gets its public JWKS.
const DEMO_KEY = { kty: "oct", k: "ZGVtby1zZXNzaW9uLWtleS1kZW1vLXNlc3Npb24ta2V5" };
const JWKS = { keys: [DEMO_KEY] };

const USERS = {
  alice: { id: "alice", groups: ["users"] },
  bob: { id: "bob", groups: ["users"] },
  carol: { id: "carol", groups: ["administrators"] },
  dave: { id: "dave", groups: ["field"] },
  erin: { id: "erin", groups: ["viewers"] },
  mallory: { id: "mallory" },
};

const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
const text64 = (v) => b64url(new TextEncoder().encode(JSON.stringify(v)));

/** An access token for `user`, as the demo provider would issue it. */
async function issueToken(user) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: user.id, iss: "https://idp.demo.example", client_id: "device-console", token_use: "access",
    iat: now, exp: now + 3600, "cognito:groups": user.groups ?? [] };
  const input = `${text64({ alg: "HS256", typ: "JWT" })}.${text64(claims)}`;
  const key = await crypto.subtle.importKey("jwk", DEMO_KEY, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input)));
  return { token: `${input}.${b64url(signature)}`, expiresAt: claims.exp };
}

const DEVICES = [
  { id: "d1", name: "Thermostat", owner: "alice" },
  { id: "d2", name: "Door lock", owner: "bob" },
  { id: "d3", name: "Camera", owner: "dave" },
  { id: "d-lab", name: "Lab gateway", owner: "carol" },
];

const CONTROLS = [
  ["read", "View"],
  ["update", "Rename"],
  ["execute", "Reboot"],
  ["push", "Update firmware"],
  ["delete", "Delete"],
];

const $ = (id) => document.getElementById(id);

function render(principal, how) {
  // One prepared principal, then one cheap check per button.
  const me = engine.prepare(principal);
  $("who").textContent = `${principal.id ?? "anonymous"} (${how}); effective roles: ${me.effectiveRoles.join(", ") || "none"}`;
  $("add").disabled = !me.isAllowed("create", "device");
  const rows = DEVICES.map((d) => {
    const tr = document.createElement("tr");
    tr.dataset.device = d.id;
    const buttons = CONTROLS.map(([action, label]) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.dataset.action = action;
      b.disabled = !me.isAllowed(action, "device", d.id, d.owner);
      return b;
    });
    const controls = document.createElement("td");
    controls.append(...buttons);
    tr.append(cell(`${d.name} (${d.id})`), cell(d.owner), controls);
    return tr;
  });
  $("devices").replaceChildren(...rows);
  me.free();
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

function pickUser() {
  status("");
  render(USERS[$("user").value], "picked");
}

$("user").addEventListener("change", pickUser);

$("issue").addEventListener("click", async () => {
  const grant = await issueToken(USERS[$("user").value]);
  $("token").value = grant.token;
  status(`Issued an access token, valid until ${new Date(grant.expiresAt * 1000).toISOString()}.`);
});

$("use-token").addEventListener("click", async () => {
  try {
    const principal = await engine.verifyJwt($("token").value.trim(), JWKS);
    status(`Token accepted: ${principal.id}, groups ${principal.groups.join(", ") || "none"}.`);
    render(principal, "access token");
  } catch (e) {
    if (!(e instanceof TesseraError)) throw e;
    status(`Token refused: ${e.code} (${e.message})`, true);
    render({}, "no valid token");
  }
});

pickUser();
document.body.dataset.ready = "true";
