"""Seeded generator of random policies, principals and requests (SPEC §1-5).

Every case is a vector case without `expect` (see conformance/README.md), with
its policy under `policy`. The same seed always gives the same cases.
"""

import copy
import random

ACTION_POOL = ["read", "create", "update", "delete", "push", "pull", "execute", "view", "edit", "run", "list"]
SUBJECT_POOL = ["device", "user", "stream", "token", "client", "api_key", "job_queue", "map", "robot"]
DEFAULT_ACTIONS = ["read", "create", "update", "delete", "push", "pull", "execute"]
DEFAULT_SUBJECTS = ["device", "user", "stream", "token", "client"]
IDS = ["u1", "u2", "u3"]
INSTANCES = ["i1", "i2", "i3"]
SCOPES = ["s1", "s2", "s3"]
CREDENTIALS = ["jwt", "session", "api_token"]


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)

    def chance(self, p):
        return self.rng.random() < p

    def some(self, pool, lo=0, hi=None):
        hi = len(pool) if hi is None else min(hi, len(pool))
        return self.rng.sample(pool, self.rng.randint(lo, hi))

    # ------------------------------------------------------------ labels

    def label(self, actions, subjects, allow_only=False):
        deny = not allow_only and self.chance(0.2)
        form = self.rng.choice(["plain", "plain", "own", "instance", "admin_subject", "admin_own_subject",
                                "admin_instance", "admin", "admin_own"])
        action = self.rng.choice(actions)
        subject = self.rng.choice(subjects)
        instance = self.rng.choice(INSTANCES)
        text = {
            "plain": f"{action}_{subject}",
            "own": f"{action}_own_{subject}",
            "instance": f"{action}_{subject}:{instance}",
            "admin_subject": f"admin_{subject}",
            "admin_own_subject": f"admin_own_{subject}",
            "admin_instance": f"admin_{subject}:{instance}",
            "admin": "admin",
            "admin_own": "admin_own",
        }[form]
        return ("!" if deny else "") + text

    def labels(self, actions, subjects, hi=4):
        return [self.label(actions, subjects) for _ in range(self.rng.randint(0, hi))]

    # ------------------------------------------------------------ policy

    def policy(self):
        actions = self.some(ACTION_POOL, 1, 5) if self.chance(0.6) else None
        subjects = self.some(SUBJECT_POOL, 1, 4) if self.chance(0.6) else None
        acts, subs = actions or DEFAULT_ACTIONS, subjects or DEFAULT_SUBJECTS
        doc = {"version": 1}
        if actions is not None:
            doc["actions"] = actions
        if subjects is not None:
            doc["subjects"] = subjects
        names = [f"r{i}" for i in range(self.rng.randint(0, 7))]
        roles = {}
        for i, name in enumerate(names):
            role = {}
            parents = self.some(names[i + 1:], 0, 3)  # only later roles: no cycles
            if parents or self.chance(0.3):
                role["inherits"] = parents
            if self.chance(0.9):
                role["permissions"] = self.labels(acts, subs, 5)
            roles[name] = role
        order = list(roles)
        self.rng.shuffle(order)  # the order roles are written in must not matter
        if roles or self.chance(0.5):
            doc["roles"] = {name: roles[name] for name in order}
        groups = {f"g{i}": self.some(names, 0, 3) for i in range(self.rng.randint(0, 3))}
        if groups:
            doc["groups"] = groups
        grants = [{"principal": self.rng.choice(IDS), "permissions": self.labels(acts, subs, 3)}
                  for _ in range(self.rng.randint(0, 3))]
        if grants:
            doc["grants"] = grants
        operations = self.operations(acts, subs, names, list(groups))
        if operations:
            doc["operations"] = operations
        return doc

    def access(self, roles, groups):
        kind = self.rng.choice(["default", "public", "authenticated", "object"])
        if kind == "default":
            return None
        if kind != "object":
            return kind
        access = {}
        if self.chance(0.5):
            access["groups_all"] = self.some(groups + ["gx"], 1, 2)
        if roles and self.chance(0.5):
            access["roles_any"] = self.some(roles, 1, 2)
        if self.chance(0.5) or not access:
            access["scopes_any"] = self.some(SCOPES, 1, 2)
        return access

    def route(self):
        segments, params = [], ["id", "x"]
        for _ in range(self.rng.randint(1, 3)):
            if params and self.chance(0.4):
                segments.append("{" + params.pop(self.rng.randrange(len(params))) + "}")
            else:
                segments.append(self.rng.choice(["a", "b", "c"]))
        return self.rng.choice(["GET", "POST", "DELETE"]) + " /" + "/".join(segments)

    def operations(self, actions, subjects, roles, groups):
        ops = {}
        for i in range(self.rng.randint(0, 6)):
            key = self.route() if self.chance(0.6) else f"Svc{i % 3}.Op{i}"
            entry = {}
            access = self.access(roles, groups)
            if access is not None:
                entry["access"] = access
            if self.chance(0.3):
                entry["credential"] = self.rng.choice(CREDENTIALS)
            if self.chance(0.6):
                entry["permission"] = f"{self.rng.choice(actions)}_{self.rng.choice(subjects)}"
            ops[key] = entry
        return ops

    # ------------------------------------------------------------ requests

    def principal(self, doc):
        acts = doc.get("actions", DEFAULT_ACTIONS)
        subs = doc.get("subjects", DEFAULT_SUBJECTS)
        p = {}
        if self.chance(0.8):
            p["id"] = self.rng.choice(IDS)
        roles = list(doc.get("roles", {})) + ["ghost"]
        if self.chance(0.8):
            p["roles"] = self.some(roles, 0, 3)
        if doc.get("groups") and self.chance(0.5):
            p["groups"] = self.some(list(doc["groups"]) + ["gx"], 0, 2)
        if self.chance(0.4):
            p["permissions"] = self.labels(acts, subs, 3)
            if self.chance(0.03):
                p["permissions"].append(self.rng.choice(["zz_" + subs[0], acts[0] + "_zz", acts[0] + "_", "!!admin"]))
        if self.chance(0.3):
            p["scopes"] = self.some(SCOPES, 0, 2)
        if self.chance(0.3):
            p["limits"] = self.labels(acts, subs, 3)
        if self.chance(0.3):
            p["credential"] = self.rng.choice(CREDENTIALS)
        return p

    def resource(self, doc):
        subs = doc.get("subjects", DEFAULT_SUBJECTS)
        r = {"type": self.rng.choice(subs) if not self.chance(0.04) else self.rng.choice(["zz", "admin", "own"])}
        if self.chance(0.6):
            r["id"] = self.rng.choice(INSTANCES)
        if self.chance(0.5):
            r["owner"] = self.rng.choice(IDS)
        if self.chance(0.2):
            r["owners"] = self.some(IDS, 0, 2)
        return r

    def action(self, doc):
        if self.chance(0.04):
            return self.rng.choice(["admin", "zz", ""])
        return self.rng.choice(doc.get("actions", DEFAULT_ACTIONS))

    def operation_request(self, doc):
        keys = list(doc.get("operations", {}))
        if not keys or self.chance(0.08):
            return self.rng.choice(["Nope.Op", "GET /zz", "GET", ""])
        key = self.rng.choice(keys)
        if " " not in key:
            return key if not self.chance(0.1) else key.lower()
        method, path = key.split(" ", 1)
        parts = [self.rng.choice(["i1", "i2", "a", "b"]) if s.startswith("{") else
                 (s if not self.chance(0.1) else self.rng.choice(["a", "b", "c"])) for s in path.split("/")[1:]]
        method = self.rng.choice([method, method.lower(), method.capitalize()])
        # Paths as frameworks see them (docs/decisions.md, Paths): HEAD for GET,
        # escapes, a trailing slash, and now and then a path that is refused.
        if method.upper() == "GET" and self.chance(0.15):
            method = "HEAD"
        if parts and self.chance(0.15):
            i = self.rng.randrange(len(parts))
            parts[i] = "%{:02X}".format(ord(parts[i][0])) + parts[i][1:] if parts[i] else parts[i]
        if parts and self.chance(0.05):
            parts[self.rng.randrange(len(parts))] = self.rng.choice(["..", ".", "a%2Fb", "%zz", "%2e%2e"])
        text = f"{method} /" + "/".join(parts) + ("/" if self.chance(0.1) else "")
        return text + ("?q=1" if self.chance(0.2) else "")

    def context(self):
        c = {}
        if self.chance(0.5):
            c["id"] = self.rng.choice(INSTANCES)
        if self.chance(0.5):
            c["owner"] = self.rng.choice(IDS)
        if self.chance(0.2):
            c["owners"] = self.some(IDS, 0, 2)
        return c

    def broken_policy(self, doc):
        """`doc` with one or two problems of SPEC §2 put in, for `load_policy`."""
        bad = copy.deepcopy(doc)
        roles = bad.get("roles", {})
        names = list(roles)
        acts = bad.get("actions", DEFAULT_ACTIONS)
        subs = bad.get("subjects", DEFAULT_SUBJECTS)
        for _ in range(self.rng.randint(1, 2)):
            kind = self.rng.choice(["inherits", "label", "label", "cycle", "top", "wrong_type", "group", "grant",
                                    "permission", "access", "version", "duplicate", "credential"])
            if kind == "inherits" and names:
                roles[self.rng.choice(names)].setdefault("inherits", []).append("ghost")
            elif kind == "label" and names:
                text = self.rng.choice(["zz_" + subs[0], acts[0] + "_zz", acts[0] + "_", acts[0] + "_own_" + subs[0] + ":i1",
                                        "!" + acts[0] + "_" + subs[0] + " ", "x" * 300, "Admin"])
                role = roles[self.rng.choice(names)]
                if isinstance(role.setdefault("permissions", []), list):
                    role["permissions"].append(text)
            elif kind == "cycle" and len(names) >= 2:
                first, last = sorted(names)[0], sorted(names)[-1]
                roles[last].setdefault("inherits", []).append(first)
            elif kind == "top":
                bad["extra"] = True
            elif kind == "wrong_type" and names:
                roles[self.rng.choice(names)]["permissions"] = "read_device"
            elif kind == "group":
                bad.setdefault("groups", {})["gz"] = ["ghost"]
            elif kind == "grant":
                bad.setdefault("grants", []).append({"permissions": []})
            elif kind == "permission":
                text = self.rng.choice(["!" + acts[0] + "_" + subs[0], "admin_" + subs[0], "admin",
                                        acts[0] + "_own_" + subs[0], acts[0] + "_" + subs[0] + ":i1"])
                bad.setdefault("operations", {})["Bad.Permission"] = {"permission": text}
            elif kind == "access":
                bad.setdefault("operations", {})["GET /bad/{id}"] = {"access": "everyone"}
            elif kind == "credential":
                bad.setdefault("operations", {})["Bad.Credential"] = {"credential": "password"}
            elif kind == "version":
                bad["version"] = 2
            elif kind == "duplicate" and "actions" in bad:
                bad["actions"].append(bad["actions"][0])
        return bad

    def case(self, doc):
        if self.chance(0.03):
            return {"op": "load_policy", "policy": self.broken_policy(doc)}
        op = self.rng.choices(["authorize", "explain", "capabilities", "authorize_operation"], [60, 15, 10, 15])[0]
        case = {"op": op, "principal": self.principal(doc)}
        if op == "authorize_operation":
            if self.chance(0.15):
                case["principal"] = None
            case["operation"] = self.operation_request(doc)
            if self.chance(0.6):
                case["context"] = self.context()
            return case
        if op != "capabilities":
            case["action"] = self.action(doc)
        case["resource"] = self.resource(doc)
        return case


def cases(seed, count, per_policy=50):
    """`count` cases from `seed`, `per_policy` of them on each random policy."""
    gen, out = Generator(seed), []
    while len(out) < count:
        doc = gen.policy()
        for _ in range(min(per_policy, count - len(out))):
            case = gen.case(doc)
            case.setdefault("policy", doc)
            out.append(case)
    return out
