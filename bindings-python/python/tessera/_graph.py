"""The role graph of a policy as a picture: roles (boxes, with their denies),
what each inherits (solid arrows), and the roles each group maps to (dashed
arrows from the group's ellipse).

``RoleGraph.to_svg()`` lays the graph out with Graphviz when it can: the
``graphviz`` Python package installed *and* its ``dot`` program on the PATH.
Otherwise it falls back to a layout of its own, written here in plain Python:
roles in layers by inheritance depth (a role above everything it inherits),
groups on top, straight arrows. Both are SVG; ``to_svg(engine="builtin")``
asks for the fallback and ``engine="graphviz"`` insists on Graphviz (raising
if it is missing). ``to_dot()`` gives the Graphviz source either way.
"""

from __future__ import annotations

import copy
import html
import importlib
from typing import Any, Mapping

__all__ = ["RoleGraph"]


def _q(text: str) -> str:
    """A DOT string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class RoleGraph:
    """Roles (``name``, ``inherits``, ``allows``, ``denies``) and groups
    (``name``, ``roles``) in document order."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data: dict[str, Any] = dict(data)

    @property
    def roles(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._data["roles"])

    @property
    def groups(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._data["groups"])

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self._data)

    def rows(self) -> list[dict[str, Any]]:
        """One row per edge: ``{from, to, kind}`` with kind ``inherits`` or ``group``."""
        out: list[dict[str, Any]] = []
        for r in self._data["roles"]:
            out.extend({"from": r["name"], "to": p, "kind": "inherits"} for p in r["inherits"])
        for g in self._data["groups"]:
            out.extend({"from": g["name"], "to": r, "kind": "group"} for r in g["roles"])
        return out

    def to_pandas(self) -> Any:
        """The edges as a ``pandas.DataFrame`` (needs ``pip install pandas``)."""
        try:
            pandas = importlib.import_module("pandas")
        except ImportError as e:
            raise ImportError("to_pandas() needs pandas, which is optional: pip install pandas") from e
        return pandas.DataFrame(self.rows(), columns=["from", "to", "kind"])

    def to_dot(self) -> str:
        """Graphviz source: roles above what they inherit, groups on top."""
        lines = ["digraph roles {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=11];']
        for r in self._data["roles"]:
            label = r["name"] + "".join("\\n" + d for d in r["denies"])
            colour = ', color="#cf222e"' if r["denies"] else ""
            lines.append(f"  {_q('role:' + r['name'])} [shape=box, label={_q(label)}{colour}];")
        for g in self._data["groups"]:
            lines.append(f"  {_q('group:' + g['name'])} [shape=ellipse, style=dashed, label={_q(g['name'])}];")
        for r in self._data["roles"]:
            for p in r["inherits"]:
                lines.append(f"  {_q('role:' + r['name'])} -> {_q('role:' + p)};")
        for g in self._data["groups"]:
            for role in g["roles"]:
                lines.append(f"  {_q('group:' + g['name'])} -> {_q('role:' + role)} [style=dashed];")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_svg(self, engine: str = "auto") -> str:
        """The graph as SVG text: Graphviz when available (``engine="auto"``),
        else the built-in layout; ``"graphviz"`` or ``"builtin"`` to choose."""
        if engine not in ("auto", "graphviz", "builtin"):
            raise ValueError("engine is 'auto', 'graphviz' or 'builtin'")
        if engine != "builtin":
            try:
                return self._graphviz_svg()
            except Exception:
                if engine == "graphviz":
                    raise
        return self._builtin_svg()

    def _graphviz_svg(self) -> str:
        graphviz = importlib.import_module("graphviz")  # optional: the package, and the `dot` program it runs
        svg: bytes = graphviz.Source(self.to_dot()).pipe(format="svg")
        return svg.decode("utf-8")

    def _layers(self) -> list[list[str]]:
        roles = {r["name"]: r["inherits"] for r in self._data["roles"]}
        depth: dict[str, int] = {}

        def height(name: str) -> int:
            # Policies are acyclic (the loader refuses cycles); depth is memoised.
            if name not in depth:
                depth[name] = 0
                depth[name] = 1 + max((height(p) for p in roles.get(name, [])), default=-1)
            return depth[name]

        for name in roles:
            height(name)
        top = max(depth.values(), default=-1)
        layers: list[list[str]] = [[] for _ in range(top + 1)]
        for name in roles:
            layers[top - depth[name]].append(name)
        return layers

    def _builtin_svg(self) -> str:
        e = html.escape
        denies = {r["name"]: r["denies"] for r in self._data["roles"]}
        layers = [[("group", g["name"]) for g in self._data["groups"]]] if self._data["groups"] else []
        layers += [[("role", n) for n in layer] for layer in self._layers()]
        box_w, gap_x, row_h = 150, 30, 90
        pos: dict[tuple[str, str], tuple[float, float, float]] = {}
        width = max((len(layer) for layer in layers), default=1) * (box_w + gap_x) + gap_x
        for row, layer in enumerate(layers):
            left = (width - len(layer) * (box_w + gap_x) + gap_x) / 2
            for i, node in enumerate(layer):
                h = 28.0 + 14 * len(denies.get(node[1], [])) if node[0] == "role" else 28.0
                pos[node] = (left + i * (box_w + gap_x), 20.0 + row * row_h, h)
        height = 40 + len(layers) * row_h
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="tessera-role-graph" width="{width:.0f}" '
            f'height="{height}" viewBox="0 0 {width:.0f} {height}" font-family="Helvetica, sans-serif" font-size="12">',
            '<defs><marker id="tessera-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>',
        ]

        def edge(a: tuple[str, str], b: tuple[str, str], dashed: bool) -> None:
            if a not in pos or b not in pos:
                return
            ax, ay, ah = pos[a]
            bx, by, _ = pos[b]
            dash = ' stroke-dasharray="5,4"' if dashed else ""
            out.append(
                f'<line x1="{ax + box_w / 2:.0f}" y1="{ay + ah:.0f}" x2="{bx + box_w / 2:.0f}" y2="{by:.0f}" '
                f'stroke="#57606a"{dash} marker-end="url(#tessera-arrow)"/>'
            )

        for r in self._data["roles"]:
            for p in r["inherits"]:
                edge(("role", r["name"]), ("role", p), False)
        for g in self._data["groups"]:
            for role in g["roles"]:
                edge(("group", g["name"]), ("role", role), True)
        for (kind, name), (left_x, top_y, box_h) in pos.items():
            x, y, h = left_x, top_y, box_h
            if kind == "group":
                out.append(
                    f'<ellipse cx="{x + box_w / 2:.0f}" cy="{y + h / 2:.0f}" rx="{box_w / 2:.0f}" ry="{h / 2:.0f}" '
                    f'fill="#f6f8fa" stroke="#57606a" stroke-dasharray="5,4"/>'
                )
            else:
                stroke = "#cf222e" if denies.get(name) else "#24292f"
                out.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{box_w}" height="{h}" rx="4" fill="#ffffff" stroke="{stroke}"/>')
            out.append(f'<text x="{x + box_w / 2:.0f}" y="{y + 18:.0f}" text-anchor="middle">{e(name)}</text>')
            for i, d in enumerate(denies.get(name, []) if kind == "role" else []):
                out.append(
                    f'<text x="{x + box_w / 2:.0f}" y="{y + 32 + 14 * i:.0f}" text-anchor="middle" '
                    f'fill="#cf222e" font-size="10">{e(d)}</text>'
                )
        out.append("</svg>")
        return "\n".join(out) + "\n"

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def __repr__(self) -> str:
        return f"RoleGraph(roles={[r['name'] for r in self._data['roles']]!r}, groups={[g['name'] for g in self._data['groups']]!r})"
