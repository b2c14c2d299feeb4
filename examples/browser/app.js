// The browser demo: pick a user (or paste a session token) and see which device
// controls the policy enables. Every decision comes from tessera-policy.
import { Engine, TesseraError } from "tessera-policy";

const policy = await (await fetch(new URL("./policy.json", import.meta.url))).json();
const engine = new Engine(policy);

// A demo-only session key (HS256). A real host keeps it on the server and
// sends the page the principal, or verifies the token server-side.
const DEMO_KEY = { kty: "oct", k: "ZGVtby1zZXNzaW9uLWtleS1kZW1vLXNlc3Npb24ta2V5" };

const USERS = {
  alice: { id: "alice", roles: ["user"] },
  bob: { id: "bob", roles: ["user"] },
  carol: { id: "carol", groups: ["administrators"] },
  dave: { id: "dave", groups: ["field"] },
  erin: { id: "erin", roles: ["viewer"] },
  mallory: { id: "mallory" },
};

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

$("issue").addEventListener("click", () => {
  const grant = engine.issueSession(USERS[$("user").value], DEMO_KEY);
  $("token").value = grant.token;
  status(`Issued session ${grant.sessionId}, valid until ${new Date(grant.expiresAt * 1000).toISOString()}.`);
});

$("use-token").addEventListener("click", () => {
  try {
    const principal = engine.verifySession($("token").value.trim(), DEMO_KEY);
    status(`Token accepted: session ${principal.sessionId}.`);
    render(principal, "session token");
  } catch (e) {
    if (!(e instanceof TesseraError)) throw e;
    status(`Token refused: ${e.code} (${e.message})`, true);
    render({}, "no valid token");
  }
});

pickUser();
document.body.dataset.ready = "true";
