"""Runs one conformance vector case through the installed `tessera` package.

The Python twin of conformance/src/lib.rs and realm.rs (the reference
behaviour) and conformance/js/dispatch.mjs: the rules are those of
conformance/README.md and docs/realm.md ("Conformance steps"). The Python
API is snake_case like the vectors, so inputs pass as they are.

`run(case, policy)` returns ("ok", value) or ("error", {code, offset?, path?,
problems?}) — the outcome harness.compare takes — and raises Fault for a
vector it cannot run (unknown op or call, missing input, a realm step that
did not give what it expects). A fault is a failure, never a skip.
"""

import json
import re
from collections.abc import Mapping

import harness
import tessera

_MISSING = object()


class Fault(Exception):
    """A problem with the vector (or a step that did not match): the case fails."""


def _plain(value):
    """Results as JSON values: Decision / Explanation through to_dict, tuples as lists."""
    if hasattr(value, "to_dict") and not isinstance(value, Mapping):
        value = value.to_dict()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def error_json(e):
    if isinstance(e, tessera.TesseraError):
        out = {"code": e.code}
        if e.offset is not None:
            out["offset"] = e.offset
        if e.path is not None:
            out["path"] = e.path
        if e.problems:
            out["problems"] = [{"code": p.code, "path": p.path} for p in e.problems]
        return out
    # anything else escaping the binding is never equal to an expected error
    return {"code": None, "raised": f"{type(e).__name__}: {e}"}


def attempt(fn):
    try:
        value = fn()
    except Fault:
        raise
    except Exception as e:  # noqa: BLE001  every escape is compared (and fails unless a TesseraError)
        return ("error", error_json(e))
    return ("ok", _plain(value))


def _checked_snapshot(r):
    # Every binding's snapshot text and row count must agree with the snapshot.
    snap = r.snapshot()
    rows = sum(len(snap[k]) for k in ("users", "api_tokens", "sessions"))
    if json.loads(r.snapshot_text()) != snap or r.rows() != rows:
        raise Fault(f"snapshot_text or rows ({r.rows()}) disagree with the snapshot")
    return snap


def field(obj, key):
    if key not in obj:
        raise Fault(f"case has no `{key}`")
    return obj[key]


def text(obj, key):
    v = field(obj, key)
    if not isinstance(v, str):
        raise Fault(f"`{key}` must be a string")
    return v


def case_now(case):
    now = case.get("now")
    if now is not None and (not isinstance(now, int) or isinstance(now, bool)):
        raise Fault("`now` must be an integer")
    return now


def _fast_path_agrees(engine, principal, action, resource, allowed):
    """Every `authorize` case also checks the fast path: a principal prepared
    once, then `is_allowed` must give the decision's `allowed`. Resources with
    an `owners` list are not expressible there and are skipped."""
    if not isinstance(resource, Mapping) or "owners" in resource:
        return
    prepared = engine.prepare(principal)
    fast = prepared.is_allowed(action, resource["type"], resource.get("id"), resource.get("owner"))
    if fast is not allowed:
        raise Fault(f"fast path disagrees with authorize ({allowed}): is_allowed {fast}")


def make_engine(policy):
    # A policy document is a JSON object, given as a dict; anything else (a
    # vector's `[]`) is given as its JSON text, which the core reads as it
    # would the same JSON anywhere (a str would otherwise be a file path).
    if isinstance(policy, Mapping):
        return tessera.Engine(policy)
    return tessera.Engine.from_json(json.dumps(policy))


def _policy_arg(policy):
    """A policy for `tessera.diff`: a dict as it is, anything else as JSON text."""
    return policy if isinstance(policy, Mapping) else json.dumps(policy)


class Runner:
    def __init__(self):
        self._key = None
        self._cached = None

    def engine(self, policy):
        key = json.dumps(policy, sort_keys=True)
        if key != self._key:
            self._key = key
            try:
                self._cached = ("ok", make_engine(policy))
            except Exception as e:  # noqa: BLE001
                self._cached = ("error", error_json(e))
        return self._cached

    def run(self, case, policy):
        op = text(case, "op")
        if op == "load_policy":
            p = field(case, "policy")
            return attempt(lambda: (make_engine(p), {"ok": True})[1])
        if op == "parse_authorization":
            header = text(case, "header")
            return attempt(lambda: tessera.parse_authorization(header))
        if op == "realm":
            return run_realm(case, policy)
        if op == "parse_label":
            label = text(case, "label")
            if policy is None:
                outcome = attempt(lambda: tessera.parse_label(label))
            else:
                kind, engine = self.engine(policy)
                if kind == "error":
                    return (kind, engine)
                outcome = attempt(lambda: engine.parse_label(label))
            if outcome[0] == "ok":
                formatted = tessera.format_label(outcome[1])
                if formatted != label:
                    raise Fault(f"format_label gave {formatted!r} for {label!r}")
            return outcome
        if op == "diff":  # SPEC §9: both policies are inputs; no engine of the case's
            a, b = field(case, "policy_a"), field(case, "policy_b")
            return attempt(lambda: tessera.diff(_policy_arg(a), _policy_arg(b)))
        kind, engine = self.engine(policy)
        if kind == "error":
            return (kind, engine)
        if op == "who_can":
            action, resource = text(case, "action"), field(case, "resource")
            return attempt(lambda: engine.who_can(action, resource))
        if op == "permissions":
            if ("role" in case) == ("principal" in case):
                raise Fault("`permissions` takes a `role` or a `principal`")
            of = case["role"] if "role" in case else case["principal"]
            return attempt(lambda: engine.permissions(of))
        if op == "suggest":
            principal, action, resource = field(case, "principal"), text(case, "action"), field(case, "resource")
            return attempt(lambda: engine.suggest(principal, action, resource))
        if op in ("authorize", "explain"):
            principal, action, resource = field(case, "principal"), text(case, "action"), field(case, "resource")
            outcome = attempt(lambda: getattr(engine, op)(principal, action, resource))
            if op == "authorize" and outcome[0] == "ok":
                _fast_path_agrees(engine, principal, action, resource, outcome[1]["allowed"])
            return outcome
        if op == "capabilities":
            principal, resource = field(case, "principal"), field(case, "resource")
            return attempt(lambda: engine.capabilities(principal, resource))
        if op == "authorize_operation":
            principal, operation = field(case, "principal"), text(case, "operation")
            if "context" in case:
                context = case["context"]
                return attempt(lambda: engine.authorize_operation(principal, operation, context))
            return attempt(lambda: engine.authorize_operation(principal, operation))
        now = case_now(case)
        if op == "verify_jwt":
            token, keys = text(case, "token"), field(case, "keys")
            return attempt(lambda: engine.verify_jwt(token, keys, now))
        if op == "issue_session":
            principal, key, options = field(case, "principal"), field(case, "key"), case.get("options")
            return attempt(lambda: engine.issue_session(principal, key, now, options))
        if op in ("renew_session", "verify_session"):
            token, key, revocations = text(case, "token"), field(case, "key"), case.get("revocations")
            return attempt(lambda: getattr(engine, op)(token, key, now, revocations))
        if op == "verify_api_token":
            secret, records = text(case, "secret"), field(case, "records")
            return attempt(lambda: engine.verify_api_token(secret, records, now))
        # The branches above are the ops a vector may name (SPEC §8).
        raise Fault(f"unknown op `{op}`")


# ------------------------------------------------------------------- realm


def _lookup(saved, reference):
    name, *parts = reference.split(".")
    if name not in saved:
        raise Fault(f"unknown reference `${{{reference}}}`")
    cur = saved[name]
    for part in parts:
        if part.isdigit() and part.isascii():
            ok = isinstance(cur, list) and int(part) < len(cur)
            cur = cur[int(part)] if ok else _MISSING
        else:
            cur = cur.get(part, _MISSING) if isinstance(cur, dict) else _MISSING
        if cur is _MISSING:
            raise Fault(f"`${{{reference}}}`: no `{part}`")
    return cur


def resolve(saved, v):
    """Replaces every `${name.path}` in the strings of `v` (docs/realm.md, "References")."""
    if isinstance(v, str):
        return _resolve_str(saved, v)
    if isinstance(v, list):
        return [resolve(saved, x) for x in v]
    if isinstance(v, dict):
        return {k: resolve(saved, x) for k, x in v.items()}
    return v


def _resolve_str(saved, s):
    if s.startswith("${") and s.endswith("}"):
        inner = s[2:-1]
        if "}" not in inner and "${" not in inner:
            return _lookup(saved, inner)
    out, rest = [], s
    while True:
        start = rest.find("${")
        if start < 0:
            break
        out.append(rest[:start])
        after = rest[start + 2:]
        end = after.find("}")
        if end < 0:
            raise Fault(f"unclosed reference in `{s}`")
        ref = after[:end]
        value = _lookup(saved, ref)
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            out.append(str(value))
        else:
            raise Fault(f"`${{{ref}}}` is {json.dumps(value)}, not a string")
        rest = after[end + 1:]
    out.append(rest)
    return "".join(out)


def _arg(args, name):
    if name not in args:
        raise Fault(f"missing argument `{name}`")
    return args[name]


def _text(args, name):
    v = _arg(args, name)
    if not isinstance(v, str):
        raise Fault(f"argument `{name}` must be a string")
    return v


def _opt_text(args, name):
    v = args.get(name)
    if v is not None and not isinstance(v, str):
        raise Fault(f"argument `{name}` must be a string or null")
    return v


def _strings(v, name):
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        raise Fault(f"argument `{name}` must be an array of strings")
    return v


def _call(box, ctx, name, args, now):
    r = box["realm"]
    actor = args.get("actor")
    if name == "create_user":
        username, password, options = _text(args, "username"), _opt_text(args, "password"), args.get("options")
        return attempt(lambda: r.create_user(actor, username, password, options, now))
    if name == "get_user":
        uid = _text(args, "user_id")
        return attempt(lambda: r.get_user(actor, uid))
    if name == "list_users":
        return attempt(lambda: r.list_users(actor))
    if name == "set_roles":
        roles, uid = _strings(_arg(args, "roles"), "roles"), _text(args, "user_id")
        return attempt(lambda: r.set_roles(actor, uid, roles))
    if name == "set_password":
        uid, password = _text(args, "user_id"), _opt_text(args, "password")
        return attempt(lambda: r.set_password(actor, uid, password))
    if name == "delete_user":
        uid = _text(args, "user_id")
        return attempt(lambda: r.delete_user(actor, uid))
    if name == "login":
        username, password = _text(args, "username"), _text(args, "password")
        return attempt(lambda: r.login(username, password, now))
    if name == "create_api_token":
        owner = _text(args, "owner")
        roles = None if args.get("roles") is None else _strings(args["roles"], "roles")
        options = args.get("options")
        return attempt(lambda: r.create_api_token(actor, owner, roles, options, now))
    if name == "list_api_tokens":
        owner = _opt_text(args, "owner")
        return attempt(lambda: r.list_api_tokens(actor, owner))
    if name in ("suspend_api_token", "resume_api_token", "revoke_api_token"):
        tid = _text(args, "token_id")
        return attempt(lambda: getattr(r, name)(actor, tid))
    if name == "replace_api_token":
        tid = _text(args, "token_id")
        return attempt(lambda: r.replace_api_token(actor, tid, now))
    if name == "open_session":
        secret = _text(args, "secret")
        return attempt(lambda: r.open_session(secret, now))
    if name == "renew":
        token = _text(args, "token")
        return attempt(lambda: r.renew(token, now))
    if name == "close":
        token = _text(args, "token")
        return attempt(lambda: r.close(token, now))
    if name == "restart":
        return attempt(r.restart)
    if name == "authenticate":
        header = _text(args, "header")
        return attempt(lambda: r.authenticate(header, now))
    if name == "snapshot":
        return attempt(lambda: _checked_snapshot(r))
    if name == "seq":
        return attempt(r.seq)
    if name in ("changes", "changes_text"):
        after = args.get("after_seq")
        if after is not None and (not isinstance(after, int) or isinstance(after, bool) or after < 0):
            raise Fault("`after_seq` must be a non-negative integer")
        got = attempt(lambda: r.changes(after))
        if got[0] == "ok" and name == "changes":
            return ("ok", [json.loads(t) for t in got[1]])
        return got
    if name == "apply":
        records = _arg(args, "records")
        if not isinstance(records, list):
            raise Fault("`records` must be an array")
        return attempt(lambda: r.apply(records))
    if name == "restore":
        snapshot = _arg(args, "snapshot")

        def restore():
            box["realm"] = tessera.Realm.restore(ctx["policy"], snapshot, ctx["key"], ctx["options"])

        return attempt(restore)
    raise Fault(f"unknown call `{name}`")


def run_realm(case, policy):
    key = field(case, "key")
    options = case.get("options")
    try:
        if "snapshot" in case:
            realm = tessera.Realm.restore(policy, case["snapshot"], key, options)
        else:
            realm = tessera.Realm(policy, key, options)
    except Exception as e:  # noqa: BLE001
        return ("error", error_json(e))
    steps = case.get("steps")
    if not isinstance(steps, list):
        raise Fault("case has no `steps` array")
    box, ctx, saved = {"realm": realm}, {"policy": policy, "key": key, "options": options}, {}
    for i, step in enumerate(steps):
        def at(msg, step=step, i=i):
            return Fault(f"step {i} ({json.dumps(step.get('call'))}): {msg}")

        try:
            name = step.get("call")
            if not isinstance(name, str):
                raise Fault("no `call`")
            args = resolve(saved, step["args"]) if "args" in step else {}
            if not isinstance(args, dict):
                raise Fault("`args` must be an object")
            now = step.get("now")
            if now is not None and (not isinstance(now, int) or isinstance(now, bool)):
                raise Fault("`now` must be an integer")
            got = _call(box, ctx, name, args, now)
            if "expect" in step:
                diff = harness.compare(resolve(saved, step["expect"]), got)
                if diff is not None:
                    raise Fault(diff)
            elif got[0] == "error":
                raise Fault(f"expected success, got error {json.dumps(got[1])}")
            if "save" in step:
                save = step["save"]
                if not isinstance(save, str) or not re.fullmatch(r"[A-Za-z0-9_]+", save):
                    raise Fault("`save` must be a name of [A-Za-z0-9_]")
                if got[0] == "error":
                    raise Fault(f"cannot save an error ({json.dumps(got[1])})")
                saved[save] = got[1]
        except Fault as e:
            raise at(str(e)) from None
    return ("ok", {"steps": len(steps)})
