"""Rewrite refusals as catalogue texts: ``raise InputError(f"due {due} has passed")`` becomes
``raise InputError(N_("due %(due)s has passed", due=due))`` (core/i18n.py), with the same English text.

Run over the project's sources (``python scripts/convert_refusals.py core plugins``); it rewrites in place the
first argument of every ``raise`` of one of the project's errors (a subclass of ``ShangliangError``, found in the
sources) and of every ``super().__init__(…)`` inside such a class, when that argument is a string or an f-string,
and adds the ``N_`` import. Anything else (a concatenation, a message built elsewhere) is left as it is and
listed. Running it again changes nothing.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

IMPORT = "from shangliang.core.i18n import N_"


def error_classes(files: list[Path]) -> set[str]:
    bases: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                names = {b.id if isinstance(b, ast.Name) else b.attr for b in node.bases
                         if isinstance(b, (ast.Name, ast.Attribute))}
                bases.setdefault(node.name, set()).update(names)
    found = {"ShangliangError"}
    while True:
        more = {name for name, parents in bases.items() if parents & found} - found
        if not more:
            return found
        found |= more


def _name(expr: ast.expr) -> str:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Subscript):
        key = expr.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.isidentifier():
            return key.value
        return _name(expr.value)
    if isinstance(expr, ast.Call):
        func = expr.func
        if isinstance(func, ast.Name) and func.id == "len":
            return "count"
        if expr.args and ((isinstance(func, ast.Attribute) and func.attr in ("join", "get", "isoformat", "strip"))
                          or (isinstance(func, ast.Name) and func.id in ("repr", "str", "sorted", "list", "int",
                                                                         "format", "min", "max", "set"))):
            return _name(func.value) if getattr(func, "attr", "") == "isoformat" else _name(expr.args[0])
        return _name(func)
    if isinstance(expr, ast.BinOp):
        return _name(expr.left)
    return "value"


def template_of(arg: ast.expr, source: str) -> tuple[str, list[tuple[str, str]]] | None:
    """The ``%(name)s`` template and ``(name, expression)`` parameters of a string or f-string, or None."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value, []
    if not isinstance(arg, ast.JoinedStr):
        return None
    parts: list[str] = []
    params: list[tuple[str, str]] = []
    by_expr: dict[str, str] = {}
    for piece in arg.values:
        if isinstance(piece, ast.Constant):
            parts.append(piece.value.replace("%", "%%"))
            continue
        assert isinstance(piece, ast.FormattedValue)
        expr = ast.get_source_segment(source, piece.value)
        if expr is None or "\n" in expr:
            return None
        if piece.conversion == ord("r"):
            expr = f"repr({expr})"
        elif piece.conversion == ord("s"):
            expr = f"str({expr})"
        elif piece.conversion == ord("a"):
            expr = f"ascii({expr})"
        if piece.format_spec is not None:
            spec = piece.format_spec
            if not all(isinstance(v, ast.Constant) for v in spec.values):
                return None
            expr = f"format({expr}, {''.join(v.value for v in spec.values)!r})"
        if expr not in by_expr:
            base = re.sub(r"\W", "_", _name(piece.value)).strip("_").lower() or "value"
            name, n = base, 2
            while name in {p for p, _ in params} or name == "template":
                name, n = f"{base}{n}", n + 1
            by_expr[expr] = name
            params.append((name, expr))
        parts.append(f"%({by_expr[expr]})s")
    template = "".join(parts)
    if not params:
        template = template.replace("%%", "%")
    return template, params


def convert(path: Path, classes: set[str]) -> tuple[int, list[str]]:
    source = path.read_text()
    tree = ast.parse(source)
    edits: list[tuple[int, int, str]] = []
    skipped: list[str] = []
    offsets = [0]
    for line in source.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))

    def pos(lineno: int, col: int) -> int:
        # ast columns are UTF-8 byte offsets
        line = source.splitlines(keepends=True)[lineno - 1]
        return offsets[lineno - 1] + len(line.encode()[:col].decode())

    def consider(call: ast.Call, where: str, index: int = 0) -> None:
        if len(call.args) <= index:
            return
        arg = call.args[index]
        if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id == "N_":
            return
        found = template_of(arg, source)
        if found is None:
            skipped.append(f"{path}:{arg.lineno}: {where}")
            return
        template, params = found
        start_line = source.splitlines()[arg.lineno - 1]
        column = len(start_line.encode()[:arg.col_offset].decode())
        end_line = source.splitlines()[arg.end_lineno - 1]
        trailing = len(end_line) - len(end_line.encode()[:arg.end_col_offset].decode())
        text = wrapped(template, params, column, trailing if arg.lineno == arg.end_lineno else 2)
        edits.append((pos(arg.lineno, arg.col_offset), pos(arg.end_lineno, arg.end_col_offset), text))

    class Visitor(ast.NodeVisitor):
        def __init__(self) -> None:
            self.classes: list[str] = []

        def visit_ClassDef(self, node: ast.ClassDef) -> None:
            self.classes.append(node.name)
            self.generic_visit(node)
            self.classes.pop()

        def visit_Raise(self, node: ast.Raise) -> None:
            exc = node.exc
            if isinstance(exc, ast.Call):
                name = exc.func.id if isinstance(exc.func, ast.Name) else (
                    exc.func.attr if isinstance(exc.func, ast.Attribute) else None)
                if name in classes:
                    # ImportRowError(path, line, message): the message is the third
                    consider(exc, f"raise {name}", 2 if name == "ImportRowError" else 0)
            self.generic_visit(node)

        def visit_Call(self, node: ast.Call) -> None:
            func = node.func
            if (self.classes and self.classes[-1] in classes and isinstance(func, ast.Attribute)
                    and func.attr == "__init__" and isinstance(func.value, ast.Call)
                    and isinstance(func.value.func, ast.Name) and func.value.func.id == "super"):
                consider(node, f"super().__init__ in {self.classes[-1]}")
            self.generic_visit(node)

    Visitor().visit(tree)
    if not edits:
        return 0, skipped
    for start, end, text in sorted(edits, reverse=True):
        source = source[:start] + text + source[end:]
    if IMPORT not in source:
        source = add_import(source)
    path.write_text(source)
    return len(edits), skipped


WIDTH = 120


def wrapped(template: str, params: list[tuple[str, str]], column: int, trailing: int = 2) -> str:
    """``N_("template", name=expr, …)`` starting at ``column``, in lines of at most WIDTH characters where it can:
    the template as adjacent string literals split at spaces (babel joins them), the parameters after it."""
    args = [f"{n}={e}" for n, e in params]
    one = "N_(" + repr_template(template) + "".join(", " + a for a in args) + ")"
    if column + len(one) + trailing <= WIDTH:
        return one
    indent = column + 3
    room = max(WIDTH - indent - 2, 40)
    chunks: list[str] = []
    rest = template
    while rest:
        if len(repr_template(rest)) <= room:
            chunks.append(rest)
            break
        cut = rest.rfind(" ", 0, room - 2)
        if cut <= 0:
            cut = room - 2
        chunks.append(rest[:cut + 1])
        rest = rest[cut + 1:]
    lines = [repr_template(c) for c in chunks]
    for i, a in enumerate(args):
        last = i == len(args) - 1
        if indent + len(lines[-1]) + 2 + len(a) + (trailing + 1 if last else 3) <= WIDTH:
            lines[-1] += ", " + a
        else:
            lines[-1] += ","
            lines.append(a)
    return "N_(" + ("\n" + " " * indent).join(lines) + ")"


def repr_template(template: str) -> str:
    quoted = repr(template)
    if quoted.startswith("'") and '"' not in template:
        quoted = '"' + quoted[1:-1].replace("\\'", "'") + '"'
    return quoted


def add_import(source: str) -> str:
    """Put the import after the module's last top-level import of the project, or after its imports."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    ours = [n for n in top if isinstance(n, ast.ImportFrom) and n.level == 0 and (n.module or "").startswith(
        "shangliang.") and (n.module or "") < "shangliang.core.i18n"]
    relative = [n for n in top if isinstance(n, ast.ImportFrom) and n.level > 0]
    if ours:
        after = ours[-1].end_lineno
        return "".join(lines[:after]) + IMPORT + "\n" + "".join(lines[after:])
    if relative:
        before = relative[0].lineno - 1
        absolute = [n for n in top if n.end_lineno <= before]
        if absolute:
            return "".join(lines[:before]) + IMPORT + "\n\n" + "".join(lines[before:]).lstrip("\n") if False else \
                "".join(lines[:absolute[-1].end_lineno]) + IMPORT + "\n" + "".join(lines[absolute[-1].end_lineno:])
        return "".join(lines[:before]) + IMPORT + "\n\n" + "".join(lines[before:])
    if not top:
        doc_end = tree.body[0].end_lineno if tree.body and isinstance(tree.body[0], ast.Expr) else 0
        return "".join(lines[:doc_end]) + "\n" + IMPORT + "\n" + "".join(lines[doc_end:])
    after = top[-1].end_lineno
    return "".join(lines[:after]) + IMPORT + "\n" + "".join(lines[after:])


def main(roots: list[str]) -> int:
    files = [p for root in roots for p in sorted(Path(root).rglob("*.py"))]
    classes = error_classes(files) - {"PluginFailed"}
    total = 0
    for path in files:
        if path.name == "i18n.py":
            continue
        count, skipped = convert(path, classes)
        total += count
        for line in skipped:
            print("left:", line)
    print(f"{total} refusals rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["core", "plugins"]))
