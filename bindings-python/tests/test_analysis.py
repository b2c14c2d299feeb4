"""Analysis in Python (SPEC §9, docs/analysis.md): who_can, permissions, diff,
suggest, the role graph, the HTML tables, to_pandas, and the `tessera diff`
console script."""

from __future__ import annotations

import copy
import json
import os
import pathlib
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from typing import Any, Dict

import pytest

import tessera

SMALL: Dict[str, Any] = {
    "version": 1, "actions": ["read", "delete"], "subjects": ["device"],
    "roles": {
        "user": {"permissions": ["read_own_device", "!read_device:d9"]},
        "auditor": {"permissions": ["read_device"]},
        "admin": {"inherits": ["user"], "permissions": ["admin_device", "!delete_device"]},
    },
    "groups": {"staff": ["user"]},
    "grants": [{"principal": "u-7", "permissions": ["delete_device:d1"]}],
}


def test_who_can_lists_holders_conditions_and_paths(engine: tessera.Engine) -> None:
    w = engine.who_can("delete", {"type": "token", "id": "t1", "owner": "u-1"})
    assert isinstance(w, tessera.WhoCan) and w.action == "delete"
    # owner's bare `admin` is overridden by the deny it inherits from admin;
    # user's admin_own_token holds for the token's owner only.
    owner = [a for a in w.allowed_by if a["name"] == "owner" and a["rule"] == "admin"][0]
    assert owner["via"] == ["owner"] and owner["condition"] == "any"
    assert [d["rule"] for d in owner["overridden_by"]] == ["!delete_token"]
    assert w.names("role", owner=True) == ["user", "manager", "cluster_admin"]
    assert w.names("role") == []
    assert {"label": "delete_token:t1", "condition": "instance"} in w.labels
    rows = w.rows()
    assert {r["effect"] for r in rows} == {"allow", "deny"}
    assert any(r["via"] == "owner → admin" for r in rows)
    assert 'class="tessera-who-can"' in w._repr_html_()


def test_who_can_agrees_with_authorize_for_each_holder_alone(engine: tessera.Engine) -> None:
    device = {"type": "device", "id": "dev-42", "owner": "u-2"}
    w = engine.who_can("update", device)
    for h in w.holders:
        p: tessera.Principal = {"id": "u-9"}
        if h["kind"] == "role":
            p["roles"] = [h["name"]]
        elif h["kind"] == "group":
            p["groups"] = [h["name"]]
        else:
            p["id"] = h["name"]
        assert engine.authorize(p, "update", device).allowed is h["otherwise"], h
        assert engine.authorize(p, "update", {**device, "owner": p["id"]}).allowed is h["when_owner"], h
    assert {"kind": "grant", "name": "u-7", "when_owner": True, "otherwise": True} in w.holders


def test_unknown_action_or_type_is_invalid_request(engine: tessera.Engine) -> None:
    for action, kind in [("fly", "device"), ("read", "robot")]:
        with pytest.raises(tessera.ArgumentError) as e:
            engine.who_can(action, {"type": kind})
        assert e.value.code == "invalid_request"
    with pytest.raises(tessera.ArgumentError) as e:
        engine.who_can("read", {"type": "device", "id": 3})  # type: ignore[typeddict-item]
    assert e.value.code == "invalid_argument"


def test_permissions_of_a_role_and_of_a_principal() -> None:
    engine = tessera.Engine(SMALL)
    t = engine.permissions("admin")
    assert isinstance(t, tessera.PermissionTable)
    assert t.effective_roles == ["admin", "user"] and t.unknown_roles == []
    assert t.can("read", "device") and not t.can("delete", "device")
    assert not t.can("read", "device", "instance", "d9")
    assert t.can("read", "device", "instance", "d1")  # an unnamed id answers as `all`
    assert [c["rule"] for c in t.allowed()] == ["admin_device", "admin_device"]
    u7 = engine.permissions({"id": "u-7", "groups": ["staff"]})
    assert u7.can("delete", "device", "instance", "d1") and u7.can("read", "device", "own")
    limited = engine.permissions({"id": "bob", "roles": ["auditor"], "limits": ["read_own_device"]})
    assert [(c["scope"], c["reason"]) for c in limited.cells if c["action"] == "read"] == [("all", "limited"), ("own", "allowed")]
    ghost = engine.permissions("ghost")
    assert ghost.unknown_roles == ["ghost"] and not ghost.allowed()
    with pytest.raises(tessera.LabelError):
        engine.permissions({"permissions": ["fly_device"]})
    assert 'class="tessera-permissions"' in t._repr_html_()


def test_permissions_on_the_example_match_authorize(engine: tessera.Engine) -> None:
    t = engine.permissions({"id": "u-7", "roles": ["manager"]})
    for c in t.cells:
        r: tessera.Resource = {"type": c["subject"]}
        if c["scope"] == "all":
            r.update(id="", owner="someone-else")
        elif c["scope"] == "instance":
            r["id"] = c["instance"]
        elif c["scope"] == "own_instance":
            r.update(id=c["instance"], owner="u-7")
        assert engine.authorize({"id": "u-7", "roles": ["manager"]}, c["action"], r).allowed is c["allowed"], c


def test_diff_reports_changes_vocabulary_and_load_errors(tmp_path: pathlib.Path) -> None:
    same = tessera.diff(SMALL, copy.deepcopy(SMALL))
    assert isinstance(same, tessera.Diff) and same.empty and not same
    wider = copy.deepcopy(SMALL)
    wider["roles"]["user"]["permissions"] = ["read_device", "!read_device:d9"]
    wider["actions"].append("push")
    d = tessera.diff(SMALL, wider)
    assert d and not d.empty
    assert d.vocabulary["actions_added"] == ["push"]
    first = d.changes[0]
    assert (first["kind"], first["name"], first["scope"]) == ("role", "user", "all")
    assert (first["a"]["reason"], first["b"]["rule"]) == ("no_match", "read_device")
    assert "action added: push" in d.summary()
    assert d.rows()[0]["b_allowed"] is True
    # The same through an engine, and from files.
    path = tmp_path / "new.json"
    path.write_text(json.dumps(wider))
    assert tessera.Engine(SMALL).diff(path) == d
    bad = {"version": 1, "roles": {"a": {"inherits": ["ghost"]}}}
    for a, b, side in [(bad, SMALL, "policy_a"), (SMALL, bad, "policy_b"), (SMALL, "{", "policy_b")]:
        with pytest.raises(tessera.PolicyError) as e:
            tessera.diff(a, b)
        assert e.value.path == side and e.value.problems
    with pytest.raises(tessera.PolicyError) as e:
        tessera.diff(SMALL, tmp_path / "missing.json")
    assert e.value.path == "policy_b" and e.value.problems[0].code == "unreadable"
    assert 'class="tessera-diff"' in d._repr_html_()


def _apply(doc: Dict[str, Any], principal: Dict[str, Any], edits: list[Dict[str, Any]]) -> tuple[Dict[str, Any], Any]:
    doc, principal = copy.deepcopy(doc), copy.deepcopy(principal)
    for e in edits:
        if e["change"] == "add_label":
            doc["roles"][e["role"]].setdefault("permissions", []).append(e["label"])
        elif e["change"] == "remove_label":
            doc["roles"][e["role"]]["permissions"] = [x for x in doc["roles"][e["role"]]["permissions"] if x != e["label"]]
        elif e["change"] == "add_grant":
            doc.setdefault("grants", []).append({"principal": e["principal"], "permissions": [e["label"]]})
        elif e["change"] == "remove_grant":
            for g in doc["grants"]:
                if g["principal"] == e["principal"]:
                    g["permissions"] = [x for x in g["permissions"] if x != e["label"]]
        elif e["change"] == "add_role":
            principal.setdefault("roles", []).append(e["role"])
        elif e["change"] == "remove_permission":
            principal["permissions"] = [x for x in principal["permissions"] if x != e["label"]]
        elif e["change"] == "add_limit":
            principal.setdefault("limits", []).append(e["label"])
        else:
            raise AssertionError(e)
    return doc, principal


@pytest.mark.parametrize("principal,action,resource", [
    ({"id": "alice", "roles": ["user"]}, "read", {"type": "device", "id": "d1", "owner": "bob"}),
    ({"id": "alice", "roles": ["admin"]}, "delete", {"type": "device", "id": "d3"}),
    ({"id": "bob", "roles": ["auditor"], "limits": ["read_own_device"]}, "read", {"type": "device", "id": "d1"}),
    ({"id": "alice", "roles": ["user", "admin"], "permissions": ["!read_device"]}, "read", {"type": "device", "id": "d9", "owner": "alice"}),
])
def test_every_suggestion_allows_once_applied(principal: Any, action: str, resource: Any) -> None:
    engine = tessera.Engine(SMALL)
    s = engine.suggest(principal, action, resource)
    assert isinstance(s, tessera.Suggestions)
    assert not s.decision.allowed and len(s) > 0
    for suggestion in s:
        doc, who = _apply(SMALL, principal, suggestion["edits"])
        after = tessera.Engine(doc).authorize(who, action, resource)
        assert after.allowed and after.to_dict() == suggestion["decision"], suggestion
    assert 'class="tessera-suggestions"' in s._repr_html_()


def test_suggestions_are_narrowest_first_and_empty_when_allowed() -> None:
    engine = tessera.Engine(SMALL)
    s = engine.suggest({"id": "alice", "roles": ["user"]}, "read", {"type": "device", "id": "d1", "owner": "bob"})
    assert s.suggestions[0]["edits"] == [{"change": "add_label", "role": "user", "label": "read_device:d1"}]
    assert [x["edits"][0]["change"] for x in s] == ["add_label", "add_grant", "add_role", "add_role"]
    assert len(engine.suggest({"roles": ["auditor"]}, "read", {"type": "device"})) == 0
    assert len(engine.suggest({"roles": ["auditor"]}, "fly", {"type": "device"})) == 0


def test_role_graph_draws_with_the_builtin_layout(engine: tessera.Engine) -> None:
    g = engine.role_graph()
    assert isinstance(g, tessera.RoleGraph)
    assert g.roles[1]["name"] == "admin" and g.roles[1]["denies"] == ["!delete_token"]
    assert {"from": "administrators", "to": "cluster_admin", "kind": "group"} in g.rows()
    svg = g.to_svg(engine="builtin")
    root = ET.fromstring(svg)  # well-formed XML
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"owner", "admin", "user", "administrators", "!delete_token"} <= set(texts)
    dot = g.to_dot()
    assert '"role:owner" -> "role:admin";' in dot and '"group:managers" -> "role:manager" [style=dashed];' in dot


def test_role_graph_falls_back_when_graphviz_is_missing(engine: tessera.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    g = engine.role_graph()
    monkeypatch.setitem(sys.modules, "graphviz", None)  # `import graphviz` now fails
    assert g.to_svg() == g.to_svg(engine="builtin") == g._repr_svg_()
    with pytest.raises(ImportError):
        g.to_svg(engine="graphviz")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` program is not installed")
def test_role_graph_uses_graphviz_when_present(engine: tessera.Engine) -> None:
    pytest.importorskip("graphviz")
    svg = engine.role_graph().to_svg(engine="graphviz")
    assert "<svg" in svg and "cluster_admin" in svg


def test_to_pandas_and_its_absence(engine: tessera.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    t = engine.permissions("manager")
    pandas = pytest.importorskip("pandas")
    frame = t.to_pandas()
    assert isinstance(frame, pandas.DataFrame) and len(frame) == len(t.cells)
    assert list(frame.columns)[:4] == ["action", "subject", "scope", "instance"]
    assert frame[(frame.action == "read") & (frame.subject == "user") & (frame.scope == "all")].allowed.item()
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        t.to_pandas()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = pathlib.Path(sys.executable).with_name("tessera")
    assert exe.exists(), "the console script is installed with the package"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60, env=dict(os.environ))


def test_console_script_exit_codes_and_json(tmp_path: pathlib.Path) -> None:
    old, new, bad = tmp_path / "old.json", tmp_path / "new.json", tmp_path / "bad.json"
    old.write_text(json.dumps(SMALL))
    wider = copy.deepcopy(SMALL)
    wider["roles"]["auditor"]["permissions"].append("delete_device")
    new.write_text(json.dumps(wider))
    bad.write_text('{"version": 2}')
    same = _cli("diff", str(old), str(old))
    assert same.returncode == 0 and "no change" in same.stdout
    changed = _cli("diff", str(old), str(new))
    assert changed.returncode == 1
    assert "role auditor: delete device (all): no_match -> allowed (delete_device)" in changed.stdout
    machine = _cli("diff", "--json", str(old), str(new))
    assert machine.returncode == 1 and json.loads(machine.stdout)["empty"] is False
    broken = _cli("diff", str(old), str(bad))
    assert broken.returncode == 2 and "policy_b" in broken.stderr and "unsupported_version" in broken.stderr
    broken_json = _cli("diff", "--json", str(bad), str(old))
    assert broken_json.returncode == 2 and json.loads(broken_json.stdout)["error"]["path"] == "policy_a"
    assert _cli("diff", str(old)).returncode == 2  # usage
