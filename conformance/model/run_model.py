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
        if e.problems:
            err["problems"] = [{"code": c, "path": p} for c, p in e.problems]
        return "error", err


def _dispatch(case, policy_doc):
    op = case["op"]
    if op == "load_policy":
        _policy(case["policy"])
        return {"ok": True}
    if op == "parse_label":
        if policy_doc is None:
            return ref.parse_label(case["label"])
        policy = _policy(policy_doc)
        return ref.parse_label(case["label"], policy.actions, policy.subjects)
    policy = _policy(policy_doc)
    if op == "authorize":
        return ref.authorize(policy, case["principal"], case["action"], case["resource"])
    if op == "explain":
        return ref.explain(policy, case["principal"], case["action"], case["resource"])
    if op == "capabilities":
        return ref.capabilities(policy, case["principal"], case["resource"])
    if op == "authorize_operation":
        return ref.authorize_operation(policy, case["principal"], case["operation"], case.get("context"))
    raise ValueError(f"not a decision op: {op}")
