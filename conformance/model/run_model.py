"""Runs the reference model on one vector case: the model's side of the suite."""

import reference as ref


def _policy(doc):
    return ref.Policy(doc)


def run(case, policy_doc):
    """("ok", result) or ("error", {code, offset?, problems?}) for one case."""
    try:
        return "ok", _dispatch(case, policy_doc)
    except ref.ModelError as e:
        err = {"code": e.code}
        if e.offset is not None:
            err["offset"] = e.offset
        if e.path is not None:
            err["path"] = e.path
        if e.problems:
            err["problems"] = [{"code": c, "path": p} for c, p in e.problems]
        return "error", err


def _load_policy(case, _policy_doc):
    _policy(case["policy"])
    return {"ok": True}


def _parse_label(case, policy_doc):
    if policy_doc is None:
        return ref.parse_label(case["label"])
    policy = _policy(policy_doc)
    return ref.parse_label(case["label"], policy.actions, policy.subjects)


#: The ops the model implements (SPEC §1-5, and §9's suggestions), each with its handler: the model
#: runs the vectors of these ops and no others.
HANDLERS = {
    "load_policy": _load_policy,
    "parse_label": _parse_label,
    "authorize": lambda c, p: ref.authorize(_policy(p), c["principal"], c["action"], c["resource"]),
    "explain": lambda c, p: ref.explain(_policy(p), c["principal"], c["action"], c["resource"]),
    "suggest": lambda c, p: _suggest(c, p),
    "capabilities": lambda c, p: ref.capabilities(_policy(p), c["principal"], c["resource"]),
    "authorize_operation": lambda c, p: ref.authorize_operation(
        _policy(p), c["principal"], c["operation"], c.get("context")
    ),
}


def _suggest(case, policy_doc):
    x = ref.explain(_policy(policy_doc), case["principal"], case["action"], case["resource"])
    decision = {k: x[k] for k in ("allowed", "reason", "rule", "source", "message") if k in x}
    return {"decision": decision, "suggestions": x["suggestions"]}


def _dispatch(case, policy_doc):
    handler = HANDLERS.get(case["op"])
    if handler is None:
        raise ValueError(f"not an op of the model: {case['op']}")
    return handler(case, policy_doc)
