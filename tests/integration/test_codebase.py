"""The codebase's own promises: every route is described in OpenAPI (docs/openapi.yaml
and the fragments docs/openapi/*.yaml), the description is a valid OpenAPI 3.1 document
whose schemas are valid JSON Schema and whose references resolve, and log tags are unique
and below src/next-number's range."""
import glob
import os
import re

import jsonschema

import openapi

ROOT = openapi.ROOT


def test_every_route_is_described_in_openapi():
    doc = openapi.load()
    missing = []
    for method, path in openapi.routes():
        item = doc["paths"].get(path)
        if not item or method.lower() not in item:
            missing.append(f"{method} {path}")
    assert not missing, "routes without an OpenAPI operation: " + ", ".join(missing)
    # and nothing described below the API that no route serves
    served = {(m.lower(), p) for m, p in openapi.routes()}
    stale = [f"{m.upper()} {p}" for p, item in doc["paths"].items() if p.startswith("/v1beta/")
             for m in item if m in openapi.METHODS and (m, p) not in served]
    assert not stale, "OpenAPI operations no route serves: " + ", ".join(stale)


def test_openapi_documents_are_valid():
    files = [os.path.join(ROOT, "docs", "openapi.yaml")] + glob.glob(os.path.join(ROOT, "docs", "openapi", "*.yaml"))
    assert len(files) >= 1
    doc = openapi.load()  # each file is OpenAPI 3.1; no name defined twice
    schemas = doc["components"].get("schemas", {})
    for name, s in schemas.items():
        jsonschema.Draft202012Validator.check_schema(s)
    refs = []

    def walk(node, where):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "$ref" and isinstance(v, str):
                    refs.append((v, where))
                elif k == "schema":
                    jsonschema.Draft202012Validator.check_schema(v)
                    walk(v, where)
                else:
                    walk(v, where)
        elif isinstance(node, list):
            for v in node:
                walk(v, where)
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in openapi.METHODS:
                continue
            where = f"{method.upper()} {path}"
            assert op.get("responses"), f"{where} has no responses"
            for p in re.findall(r"\{([^}]+)\}", path):
                names = [x.get("name") for x in op.get("parameters", []) + item.get("parameters", [])]
                assert p in names, f"{where}: path parameter {p} not described"
            walk(op, where)
    for ref, where in refs:
        assert ref.startswith("#/components/"), f"{where}: external reference {ref}"
        node = doc
        for part in ref[2:].split("/"):
            assert isinstance(node, dict) and part in node, f"{where}: {ref} does not resolve"
            node = node[part]


def test_the_checker_refuses_what_the_description_does_not_allow():
    # an error without a code, a success with a non-zero code, an undocumented status
    assert openapi.problems("GET", "/v1beta/me", 404, "application/json", b'{"desc": "x"}')
    assert openapi.problems("GET", "/v1beta/me", 200, "application/json",
                            b'{"code": 5, "desc": "", "data": {}}')
    assert openapi.problems("GET", "/v1beta/no-such-thing", 200, "application/json",
                            b'{"code": 0, "desc": "", "data": {}}')
    assert not openapi.problems("GET", "/v1beta/no-such-thing", 404, "application/json",
                                b'{"code": 104, "desc": "No such endpoint", "data": "/x"}')


def tags_in_use():
    used = {}
    for f in glob.glob(os.path.join(ROOT, "src", "**", "*.[ch]"), recursive=True) + [os.path.join(ROOT, "mod_sslorders.c")]:
        with open(f) as fh:
            text = fh.read()
        if f.endswith("so_log.h"):
            continue  # the example in the comment
        for m in re.finditer(r"SOLOGNO\((\d{5})\)", text):
            used.setdefault(m.group(1), []).append(os.path.relpath(f, ROOT))
    return used


def test_log_tags_are_unique_and_below_next_number():
    used = tags_in_use()
    twice = {t: fs for t, fs in used.items() if len(fs) > 1}
    assert not twice, f"log tags used more than once: {twice}"
    with open(os.path.join(ROOT, "src", "next-number")) as f:
        nxt = int(f.read().strip())
    above = sorted(t for t in used if int(t) >= nxt)
    assert not above, f"tags at or above src/next-number ({nxt}): {above}"


# SQL lives in src/store only (statements, WHERE fragments, PRAGMAs): the other layers
# describe what they want (e.g. so_order_filter_t) and the store writes the SQL.
SQL_RE = re.compile(r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b"
                    r"|\bDELETE\s+FROM\b|\bWHERE\b|\bPRAGMA\b|\bLIKE\s+%s|\bORDER\s+BY\b"
                    r"|\bCREATE\s+(?:TABLE|INDEX)\b"
                    r"|\b\w+\.\w+\s*(?:=|>=|<=|<|>)\s*%(?:s|d|lld)\b|\bIN\s*\($")
C_LITERALS = re.compile(r'"(?:[^"\\\n]|\\.)*"(?:\s*"(?:[^"\\\n]|\\.)*")*')


def sql_literals(text):
    """(line, literal) for every C string literal (adjacent ones joined) that reads as SQL."""
    text = re.sub(r'/\*[\s\S]*?\*/|//[^\n]*', lambda m: '\n' * m.group(0).count('\n'), text)
    for m in C_LITERALS.finditer(text):
        lit = ''.join(re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(0)))
        if SQL_RE.search(lit):
            yield text.count('\n', 0, m.start()) + 1, lit


def test_the_sql_check_sees_sql():
    sample = ('static const char *a = "o.folder_id = %lld", *b = "o.status IN (";\n'
              '/* SELECT x FROM y in a comment */ const char *c = "PRAGMA foreign_keys = ON";\n'
              'route("DELETE", "/tags/{id}"); so_log("order %lld deleted", id);\n'
              'q = "EXISTS (SELECT 1 FROM t "\n    "WHERE x = %s)";\n')
    assert [line for line, _ in sql_literals(sample)] == [1, 1, 2, 4]


def test_no_sql_outside_the_store():
    files = [os.path.join(ROOT, 'mod_sslorders.c')] + [
        f for f in glob.glob(os.path.join(ROOT, 'src', '**', '*.[ch]'), recursive=True)
        if os.path.relpath(f, ROOT).split(os.sep)[:2] != ['src', 'store']]
    found = []
    for path in sorted(files):
        with open(path, encoding='utf-8') as f:
            for line, lit in sql_literals(f.read()):
                found.append('%s:%d: %s' % (os.path.relpath(path, ROOT), line, lit[:80]))
    assert found == [], 'SQL outside src/store:\n' + '\n'.join(found)


def test_files_and_functions_stay_small():
    """scripts/sizes.py --check: no C file over 800 lines, no function over 100 lines
    without a `Long:` sentence saying why (docs/architecture.md)."""
    import subprocess
    import sys
    r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "sizes.py"), "--check",
                        os.path.join(ROOT, "src")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "files over 800 lines: 0" in r.stdout, r.stdout
