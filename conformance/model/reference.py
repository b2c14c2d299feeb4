"""Reference model of tessera's decision semantics (SPEC §1-5).

Written from SPEC.md alone, for clarity rather than speed: it reads the policy
JSON as it is and loops over labels. The conformance suite checks that it and
the Rust core agree on every vector and on random cases (conformance/random).
Where SPEC is silent it follows the choices listed in conformance/README.md.
"""

import copy
import json
import re

DEFAULT_ACTIONS = ["read", "create", "update", "delete", "push", "pull", "execute"]
DEFAULT_SUBJECTS = ["device", "user", "stream", "token", "client"]
CREDENTIALS = ("jwt", "session", "api_token")
IDENT = re.compile(r"[a-z][a-z0-9]*\Z")
SUBJECT = re.compile(r"[a-z][a-z0-9]*(_[a-z][a-z0-9]*)*\Z")
INSTANCE_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@~")
LOWER, LOWER_DIGIT = set("abcdefghijklmnopqrstuvwxyz"), set("abcdefghijklmnopqrstuvwxyz0123456789")


class ModelError(Exception):
    def __init__(self, code, offset=None, problems=None, path=None):
        super().__init__(code)
        self.code, self.offset, self.problems, self.path = code, offset, problems or [], path


# ---------------------------------------------------------------- §1 labels

def _ident_end(text, pos):
    """End of the identifier starting at pos, or pos when there is none."""
    if pos < len(text) and text[pos] in LOWER:
        pos += 1
        while pos < len(text) and text[pos] in LOWER_DIGIT:
            pos += 1
    return pos


def parse_label(text, actions=DEFAULT_ACTIONS, subjects=DEFAULT_SUBJECTS):
    data = text.encode("utf-8")
    if len(data) > 256:
        raise ModelError("too_long", 256)
    for i, byte in enumerate(data):
        if byte > 127 or chr(byte).isspace():
            raise ModelError("syntax", i)
    label = {"effect": "allow", "action": None, "own": False, "subject": None, "instance": None}
    pos = 0
    if text.startswith("!"):
        label["effect"], pos = "deny", 1
    end = _ident_end(text, pos)
    if end == pos:
        raise ModelError("syntax", pos)
    action_at, label["action"] = pos, text[pos:end]
    if label["action"] == "admin" and text[end:] in ("", "_own"):
        label["own"] = text[end:] == "_own"
        return label
    if end == len(text) or text[end] != "_":
        raise ModelError("syntax", end)
    pos = end + 1
    if text.startswith("own_", pos):
        label["own"], pos = True, pos + 4
    subject_at = pos
    while True:
        end = _ident_end(text, pos)
        if end == pos:
            raise ModelError("syntax", pos)
        pos = end
        if pos < len(text) and text[pos] == "_":
            pos += 1
            continue
        break
    label["subject"] = text[subject_at:pos]
    colon = None
    if pos < len(text) and text[pos] == ":":
        colon, start = pos, pos + 1
        pos = start
        while pos < len(text) and text[pos] in INSTANCE_CHARS:
            pos += 1
        if pos == start:
            raise ModelError("syntax", start)
        if pos - start > 128:
            raise ModelError("syntax", start + 128)
        label["instance"] = text[start:pos]
    if pos < len(text):
        raise ModelError("syntax", pos)
    if label["action"] != "admin" and label["action"] not in actions:
        raise ModelError("unknown_action", action_at)
    if label["subject"] not in subjects:
        raise ModelError("unknown_subject", subject_at)
    if label["own"] and colon is not None:
        raise ModelError("own_with_instance", colon)
    return label


# ---------------------------------------------------------------- §2 policy

def _key(path, key):
    return f"{path}.{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key) else f"{path}[{json.dumps(key)}]"


def _join(path, key):
    return key if not path else _key(path, key)


ROUTE = re.compile(r"[A-Z]+ (/([^/{}\s?]+|\{[a-z_][a-z0-9_]*\}))+/?\Z|[A-Z]+ /\Z")
RPC = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


class Policy:
    def __init__(self, doc):
        self.problems = []
        self._routes = set()
        if not isinstance(doc, dict):
            raise ModelError("invalid_policy", problems=[("wrong_type", "")])
        self.doc = doc
        known = ("version", "actions", "subjects", "roles", "groups", "grants", "operations", "tokens")
        for key in doc:
            if key not in known:
                self._problem("unknown_key", _join("", key))
        if "version" not in doc:
            self._problem("missing_key", "version")
        elif type(doc["version"]) is not int:
            self._problem("wrong_type", "version")
        elif doc["version"] != 1:
            self._problem("unsupported_version", "version")
        self.actions = self._names("actions", DEFAULT_ACTIONS, IDENT)
        self.subjects = self._names("subjects", DEFAULT_SUBJECTS, SUBJECT)
        self.roles = self._object("roles", self._role)
        self.groups = self._object("groups", lambda path, value, _: self._strings(path, value, self._role_ref))
        self.grants = self._list("grants", self._grant)
        self.operations = self._object("operations", self._operation)
        if "tokens" in doc and not isinstance(doc["tokens"], dict):
            self._problem("wrong_type", "tokens")
        self._check_cycles()
        if self.problems:
            raise ModelError("invalid_policy", problems=self.problems)

    def _problem(self, code, path):
        self.problems.append((code, path))

    def _names(self, key, default, pattern):
        names = self._strings(key, self.doc.get(key, default), None)
        for i, name in enumerate(names):
            path = f"{key}[{i}]"
            reserved = name in ("admin", "own") or name.startswith("own_")
            if not pattern.match(name) or reserved:
                self._problem("invalid_name", path)
            elif name in names[:i]:
                self._problem("duplicate", path)
        return names

    def _strings(self, path, value, check):
        if not isinstance(value, list):
            self._problem("wrong_type", path)
            return []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self._problem("wrong_type", f"{path}[{i}]")
            elif check:
                check(f"{path}[{i}]", item)
        return [item for item in value if isinstance(item, str)]

    def _object(self, key, check):
        value = self.doc.get(key, {})
        if not isinstance(value, dict):
            self._problem("wrong_type", key)
            return {}
        return {name: check(_key(key, name), item, name) for name, item in value.items()}

    def _list(self, key, check):
        value = self.doc.get(key, [])
        if not isinstance(value, list):
            self._problem("wrong_type", key)
            return []
        return [check(f"{key}[{i}]", item) for i, item in enumerate(value)]

    def _fields(self, path, value, allowed, required=()):
        if not isinstance(value, dict):
            self._problem("wrong_type", path)
            return {}
        for key in value:
            if key not in allowed:
                self._problem("unknown_key", _key(path, key))
        for key in required:
            if key not in value:
                self._problem("missing_key", _key(path, key))
        return value

    def _label(self, path, text):
        try:
            return parse_label(text, self.actions, self.subjects)
        except ModelError as e:
            self._problem(e.code, path)

    def _labels(self, path, value):
        return [(text, self._label(f"{path}[{i}]", text)) for i, text in enumerate(self._strings(path, value, None))]

    def _role_ref(self, path, name):
        roles = self.doc.get("roles")
        if not isinstance(roles, dict) or name not in roles:
            self._problem("unknown_role", path)

    def _role(self, path, value, name):
        if not name or any(ch.isspace() for ch in name):
            self._problem("invalid_name", path)
        value = self._fields(path, value, ("inherits", "permissions"))
        inherits = self._strings(_key(path, "inherits"), value.get("inherits", []), self._role_ref)
        for i, parent in enumerate(inherits):  # one problem per entry: unknown_role comes first
            if parent in inherits[:i] and parent in self.doc["roles"]:
                self._problem("duplicate", f"{_key(path, 'inherits')}[{i}]")
        return {"inherits": inherits, "labels": self._labels(_key(path, "permissions"), value.get("permissions", []))}

    def _grant(self, path, value):
        value = self._fields(path, value, ("principal", "permissions"), ("principal", "permissions"))
        if "principal" in value and not isinstance(value["principal"], str):
            self._problem("wrong_type", _key(path, "principal"))
        return {"principal": value.get("principal"), "labels": self._labels(_key(path, "permissions"), value.get("permissions", []))}

    def _operation(self, path, value, key):
        if not (ROUTE.match(key) or RPC.match(key)):
            self._problem("invalid_operation", path)
        elif ROUTE.match(key):
            shape = _route_shape(key)
            if shape is None or shape in self._routes:
                self._problem("invalid_operation", path)
            else:
                self._routes.add(shape)
        value = self._fields(path, value, ("access", "credential", "permission"))
        access = value.get("access", "authenticated")
        if isinstance(access, dict):
            self._fields(_key(path, "access"), access, ("groups_all", "roles_any", "scopes_any"))
            for k in ("groups_all", "roles_any", "scopes_any"):
                if k in access:
                    check = self._role_ref if k == "roles_any" else None
                    self._strings(_key(_key(path, "access"), k), access[k], check)
        elif access not in ("public", "authenticated"):
            self._problem("invalid_operation", _key(path, "access"))
        if "credential" in value and value["credential"] not in CREDENTIALS:
            self._problem("invalid_operation", _key(path, "credential"))
        permission = None
        if "permission" in value:
            if not isinstance(value["permission"], str):
                self._problem("wrong_type", _key(path, "permission"))
            else:
                permission = self._label(_key(path, "permission"), value["permission"])
                if permission and (permission["effect"] == "deny" or permission["action"] == "admin"
                                   or permission["own"] or permission["instance"] is not None):
                    self._problem("invalid_permission", _key(path, "permission"))
        return {"access": access, "credential": value.get("credential"), "permission": permission}

    def _check_cycles(self):
        """One `cycle` problem per role whose `inherits` leads back into the path that reached it."""
        state, closing = {}, []

        def visit(name):
            if state.get(name) == "done" or name not in self.roles:
                return
            state[name] = "open"
            for parent in self.roles[name]["inherits"]:
                if state.get(parent) == "open":
                    if name not in closing:
                        closing.append(name)
                else:
                    visit(parent)
            state[name] = "done"

        for name in self.roles:
            visit(name)
        for name in closing:
            self._problem("cycle", _key(_key("roles", name), "inherits"))


# ---------------------------------------------------------------- §3 inputs

def _check_shape(value, what, fields, required=()):
    if not isinstance(value, dict) or any(k not in fields for k in value) or any(k not in value for k in required):
        raise ModelError("invalid_argument")
    for key, kind in fields.items():
        item = value.get(key)
        ok = {"str": lambda v: isinstance(v, str), "int": lambda v: type(v) is int, "any": lambda v: True,
              "strs": lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v),
              "cred": lambda v: v in CREDENTIALS}[kind]
        nullable = kind != "strs" or key == "limits"
        if key in value and not (ok(item) or (item is None and nullable)):
            raise ModelError("invalid_argument")


PRINCIPAL_FIELDS = {"id": "str", "roles": "strs", "groups": "strs", "permissions": "strs", "scopes": "strs",
                    "limits": "strs", "credential": "cred", "expires_at": "int", "session_id": "str",
                    "api_token_id": "str", "claims": "any"}
RESOURCE_FIELDS = {"type": "str", "id": "str", "owner": "str", "owners": "strs"}


class Subject:
    """A principal resolved against a policy: its rules in order, its roles."""

    def __init__(self, policy, principal):
        _check_shape(principal, "principal", PRINCIPAL_FIELDS)
        self.policy, self.p = policy, principal
        parse = lambda text: parse_label(text, policy.actions, policy.subjects)  # noqa: E731
        self.rules = [(text, parse(text), "principal") for text in principal.get("permissions") or []]
        for grant in policy.grants:
            if "id" in principal and grant["principal"] == principal["id"]:
                self.rules += [(text, label, "grant") for text, label in grant["labels"]]
        seeds = list(principal.get("roles") or [])
        for group in principal.get("groups") or []:
            seeds += policy.groups.get(group, [])
        self.unknown_roles = []
        for name in seeds:
            if name not in policy.roles and name not in self.unknown_roles:
                self.unknown_roles.append(name)
        self.roles, queue = [], [name for name in seeds if name in policy.roles]
        while queue:  # breadth first: every role once, in the order first reached
            name = queue.pop(0)
            if name not in self.roles:
                self.roles.append(name)
                queue += policy.roles[name]["inherits"]
        for name in self.roles:
            self.rules += [(text, label, f"role:{name}") for text, label in policy.roles[name]["labels"]]
        limits = principal.get("limits")
        self.limits = None if limits is None else [parse(text) for text in limits]


def matches(label, principal, action, resource):
    if label["subject"] is not None:
        if label["subject"] != resource["type"] or label["action"] not in (action, "admin"):
            return False
    owners = ([resource["owner"]] if resource.get("owner") is not None else []) + (resource.get("owners") or [])
    type_level = resource.get("id") is None and not owners
    if label["own"] and not type_level and principal.get("id") not in owners:
        return False
    return label["instance"] is None or label["instance"] == resource.get("id")


def _decision(allowed, reason, rule=None, source=None, message=None):
    d = {"allowed": allowed, "reason": reason, "rule": rule, "source": source}
    if message is not None:
        d["message"] = message
    return d


def decide(subject, action, resource, matched=None):
    _check_shape(resource, "resource", RESOURCE_FIELDS, ("type",))
    policy, principal = subject.policy, subject.p
    if action not in policy.actions:
        return _decision(False, "invalid_request", message=f"unknown action {action!r}")
    if resource["type"] not in policy.subjects:
        return _decision(False, "invalid_request", message=f"unknown resource type {resource['type']!r}")
    hits = [(text, label, source) for text, label, source in subject.rules if matches(label, principal, action, resource)]
    if matched is not None:
        matched += [{"rule": text, "source": source, "effect": label["effect"]} for text, label, source in hits]
    denies = [hit for hit in hits if hit[1]["effect"] == "deny"]
    allows = [hit for hit in hits if hit[1]["effect"] == "allow"]
    if denies:
        return _decision(False, "denied", denies[0][0], denies[0][2])
    if not allows:
        return _decision(False, "no_match")
    text, _, source = allows[0]
    if subject.limits is not None:
        limit_hits = [label for label in subject.limits if matches(label, principal, action, resource)]
        if not any(lim["effect"] == "allow" for lim in limit_hits) or any(lim["effect"] == "deny" for lim in limit_hits):
            return _decision(False, "limited", text, source)
    return _decision(True, "allowed", text, source)


# ---------------------------------------------------------------- §4 API

def authorize(policy, principal, action, resource):
    return decide(Subject(policy, principal), action, resource)


def explain(policy, principal, action, resource):
    subject, matched = Subject(policy, principal), []
    result = decide(subject, action, resource, matched)
    result.update(effective_roles=subject.roles, unknown_roles=subject.unknown_roles, matched=matched)
    result["suggestions"] = suggestions(policy, principal, action, resource, result)
    return result


# ---------------------------------------------------------------- §9 what would allow it
# Written from docs/analysis.md ("suggest"), not from the core: single edits in
# the documented order, each kept only if deciding again allows the request;
# else one combined change.

_NAMEABLE = re.compile(r"[A-Za-z0-9._@~-]{1,128}")


def _apply(doc, principal, edits):
    doc, principal = copy.deepcopy(doc), copy.deepcopy(principal)
    for e in edits:
        kind, label = e["change"], e.get("label")
        if kind == "add_label":
            role = doc.get("roles", {}).get(e["role"])
            if isinstance(role, dict):
                role.setdefault("permissions", []).append(label)
        elif kind == "remove_label":
            role = doc.get("roles", {}).get(e["role"], {})
            role["permissions"] = [x for x in role.get("permissions", []) if x != label]
        elif kind == "add_grant":
            doc.setdefault("grants", []).append({"principal": e["principal"], "permissions": [label]})
        elif kind == "remove_grant":
            for g in doc.get("grants", []):
                if g.get("principal") == e["principal"]:
                    g["permissions"] = [x for x in g.get("permissions", []) if x != label]
        elif kind == "add_role":
            principal["roles"] = list(principal.get("roles") or []) + [e["role"]]
        elif kind == "remove_permission":
            principal["permissions"] = [x for x in principal.get("permissions") or [] if x != label]
        elif kind == "add_limit":
            principal["limits"] = list(principal.get("limits") or []) + [label]
    return doc, principal


def _verified(policy, principal, action, resource, edits):
    doc, p = _apply(policy.doc, principal, edits)
    try:
        d = authorize(Policy(doc), p, action, resource)
    except ModelError:
        return None
    return {"edits": edits, "decision": d} if d["allowed"] else None


def _narrowest_labels(principal, action, resource):
    kind, rid = resource["type"], resource.get("id")
    out = [f"{action}_{kind}:{rid}"] if isinstance(rid, str) and _NAMEABLE.fullmatch(rid) else []
    owners = ([resource["owner"]] if resource.get("owner") is not None else []) + (resource.get("owners") or [])
    type_level = rid is None and not owners
    if type_level or ("id" in principal and principal["id"] in owners):
        out.append(f"{action}_own_{kind}")
    return out + [f"{action}_{kind}"]


def suggestions(policy, principal, action, resource, explained):
    if explained["allowed"] or explained["reason"] == "invalid_request":
        return []
    check = lambda edits: _verified(policy, principal, action, resource, edits)  # noqa: E731
    labels = _narrowest_labels(principal, action, resource)

    def narrowest(base, make):
        return next((s for s in (check(base + [make(label)]) for label in labels) if s), None)

    removals = []
    for m in explained["matched"]:
        if m["effect"] != "deny":
            continue
        if m["source"] == "principal":
            edit = {"change": "remove_permission", "label": m["rule"]}
        elif m["source"] == "grant":
            edit = {"change": "remove_grant", "principal": principal.get("id", ""), "label": m["rule"]}
        else:
            edit = {"change": "remove_label", "role": m["source"][len("role:"):], "label": m["rule"]}
        if edit not in removals:
            removals.append(edit)
    out = [s for s in (check([e]) for e in removals) if s]
    for role in explained["effective_roles"]:
        out += [s for s in [narrowest([], lambda lb, r=role: {"change": "add_label", "role": r, "label": lb})] if s]
    if "id" in principal:
        out += [s for s in [narrowest([], lambda lb: {"change": "add_grant", "principal": principal["id"], "label": lb})] if s]

    def weight(name):  # labels of the role and of every role it inherits
        seen, queue = [], [name]
        while queue:
            r = queue.pop(0)
            if r not in seen:
                seen.append(r)
                queue += policy.roles[r]["inherits"]
        return sum(len(policy.roles[r]["labels"]) for r in seen)

    others = sorted((weight(r), r) for r in policy.roles if r not in explained["effective_roles"])
    out += [s for s in (check([{"change": "add_role", "role": r}]) for _, r in others) if s]
    if principal.get("limits") is not None:
        out += [s for s in [narrowest([], lambda lb: {"change": "add_limit", "label": lb})] if s]
    if out:
        return out
    # No single edit: every deny removed, then an allow, then the limits.
    edits = list(removals)
    if check(edits) is None:
        roles = explained["effective_roles"]
        if roles:
            make = lambda lb: {"change": "add_label", "role": roles[0], "label": lb}  # noqa: E731
        elif "id" in principal:
            make = lambda lb: {"change": "add_grant", "principal": principal["id"], "label": lb}  # noqa: E731
        else:
            make = None
        widened = narrowest(edits, make) if make else None
        if widened:
            edits = widened["edits"]
        elif principal.get("limits") is not None:
            if make:
                edits = edits + [make(labels[0])]
            limited = narrowest(edits, lambda lb: {"change": "add_limit", "label": lb})
            if limited:
                edits = limited["edits"]
    done = check(edits)
    return [done] if done else []


def capabilities(policy, principal, resource):
    subject = Subject(policy, principal)
    return [action for action in policy.actions if decide(subject, action, resource)["allowed"]]


# ---------------------------------------------------------------- §5 operations

class BadPath(Exception):
    pass


def _decode(segment):
    """Percent-decodes one segment; BadPath for what docs/decisions.md refuses."""
    raw = bytearray()
    i = 0
    while i < len(segment):
        if segment[i] == "%":
            pair = segment[i + 1:i + 3]
            if len(pair) != 2 or any(c not in "0123456789abcdefABCDEF" for c in pair):
                raise BadPath(segment)
            raw.append(int(pair, 16))
            i += 3
        else:
            raw += segment[i].encode()
            i += 1
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadPath(segment) from None
    if "/" in text or text in (".", ".."):
        raise BadPath(segment)
    return text


def _segments(path):
    """The path's decoded segments, one trailing slash dropped (root kept)."""
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return [_decode(s) for s in path[1:].split("/")]


def _route_shape(key):
    """(method, segments) of a route key, literals decoded; None if refused."""
    method, _, path = key.partition(" ")
    try:
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        return method, tuple(s if s.startswith("{") else _decode(s) for s in path[1:].split("/"))
    except BadPath:
        return None


def _match(policy, method, segments):
    best, best_score, best_params = None, -1, {}
    for key, entry in policy.operations.items():
        if not ROUTE.match(key):
            continue
        shape = _route_shape(key)
        if shape is None or shape[0] != method or len(shape[1]) != len(segments):
            continue
        params, score = {}, 0
        for want, got in zip(shape[1], segments):
            if want.startswith("{"):
                if not got:
                    break
                params[want[1:-1]] = got
            elif want != got:
                break
            else:
                score += 1
        else:
            if score > best_score:
                best, best_score, best_params = entry, score, params
    return best, best_params


def find_operation(policy, operation):
    """The entry for `operation` and its path parameters, or (None, {})."""
    if operation in policy.operations:
        return policy.operations[operation], {}
    operation = operation.split("?", 1)[0].split("#", 1)[0]
    if " " not in operation:
        return None, {}
    method, _, path = operation.partition(" ")
    method, path = method.upper(), path.lstrip(" ")
    if not path.startswith("/"):
        return None, {}
    try:
        segments = _segments(path)
    except BadPath:
        raise ModelError("invalid_path", path="operation") from None
    best, params = _match(policy, method, segments)
    if best is None and method == "HEAD":
        best, params = _match(policy, "GET", segments)
    return best, params


def authorize_operation(policy, principal, operation, context=None):
    context = context or {}
    _check_shape(context, "context", {"id": "str", "owner": "str", "owners": "strs"})
    if principal is not None:
        # SPEC §3: a principal is an object, checked before the table is read
        _check_shape(principal, "principal", PRINCIPAL_FIELDS)
    entry, params = find_operation(policy, operation)
    if entry is None:
        return _decision(False, "unknown_operation")
    access = entry["access"]
    if principal is None:
        if access == "public" and entry["credential"] is None and entry["permission"] is None:
            return _decision(True, "public")
        return _decision(False, "unauthenticated")
    subject = Subject(policy, principal)
    if isinstance(access, dict):
        if not all(g in (principal.get("groups") or []) for g in access.get("groups_all", [])):
            return _decision(False, "missing_group")
        if "roles_any" in access and not any(r in subject.roles for r in access["roles_any"]):
            return _decision(False, "missing_role")
        if "scopes_any" in access and not any(s in (principal.get("scopes") or []) for s in access["scopes_any"]):
            return _decision(False, "missing_scope")
    if entry["credential"] is not None and principal.get("credential") != entry["credential"]:
        return _decision(False, "wrong_credential")
    reason = "public" if access == "public" else "allowed"
    permission = entry["permission"]
    if permission is None:
        return _decision(True, reason)
    resource = {"type": permission["subject"]}
    for key in ("id", "owner", "owners"):
        if context.get(key) is not None:
            resource[key] = context[key]
    if "id" in params:
        resource["id"] = params["id"]
    decision = decide(subject, permission["action"], resource)
    if not decision["allowed"]:
        return decision
    return _decision(True, reason, decision["rule"], decision["source"])
