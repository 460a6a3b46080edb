"""Every answer the integration tests get, checked against the OpenAPI 3.1 description of
the API: docs/openapi.yaml merged with every fragment docs/openapi/*.yaml (paths and
components; a feature branch adds its own fragment).

conftest.py installs check() on every requests.Session (so plain requests.get() calls are
seen too) and fails a test that got an answer the description does not allow: a status
the operation does not list (nor `default`), a Content-Type it does not list, a JSON body
its schema (JSON Schema 2020-12, checked with jsonschema) refuses. Paths the API does not
serve (the portal's files, DCV test servers, ...) are not checked; a path below the API
that matches no operation must be answered with the error envelope.

SO_OPENAPI_RECORD=<file> also appends every checked answer to <file> (JSON lines), which
scripts/openapi-infer.py can turn into schemas for operations that lack them."""
import glob
import json
import os
import re
import threading
import urllib.parse

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCS = os.path.join(ROOT, "docs")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# where the test configuration mounts the handlers (conf/httpd-dev.conf.in)
MOUNTS = ("/v1beta/", "/seal/", "/pki/", "/approve/")
API_PREFIX = "/v1beta"

_lock = threading.Lock()
_spec = None
violations = []


def load():
    """docs/openapi.yaml with every docs/openapi/*.yaml merged in: paths (a path's
    operations are merged too) and every components section. A name defined twice with
    different content is an error."""
    files = [os.path.join(DOCS, "openapi.yaml")] + sorted(glob.glob(os.path.join(DOCS, "openapi", "*.yaml")))
    merged = {"openapi": "3.1.0", "info": {}, "paths": {}, "components": {}}
    for f in files:
        with open(f) as fh:
            doc = yaml.safe_load(fh)
        if not isinstance(doc, dict) or not str(doc.get("openapi", "")).startswith("3.1"):
            raise ValueError(f"{f}: not an OpenAPI 3.1 document")
        if not merged["info"]:
            merged["info"] = doc.get("info", {})
        for path, item in (doc.get("paths") or {}).items():
            have = merged["paths"].setdefault(path, {})
            for k, v in item.items():
                if k in have and have[k] != v:
                    raise ValueError(f"{f}: {k.upper()} {path} is described twice")
                have[k] = v
        for section, names in (doc.get("components") or {}).items():
            have = merged["components"].setdefault(section, {})
            for name, v in names.items():
                if name in have and have[name] != v:
                    raise ValueError(f"{f}: components/{section}/{name} is defined twice")
                have[name] = v
    return merged


def spec():
    global _spec
    with _lock:
        if _spec is None:
            doc = load()
            ops = []
            for path, item in doc["paths"].items():
                segs = path.strip("/").split("/")
                rx = "^/" + "/".join("[^/]+" if re.fullmatch(r"\{[^}]+\}", s) else re.escape(s)
                                     for s in segs) + "$"
                literal = sum(1 for s in segs if not s.startswith("{"))
                ops.append((len(segs), literal, re.compile(rx), path, item))
            # the most literal segments first: /folders/auto-arrange before /folders/{id}
            ops.sort(key=lambda o: (-o[1], o[3]))
            _spec = (doc, ops)
        return _spec


def match(path):
    """The OpenAPI path template and its item for a request path, or (None, None)."""
    _, ops = spec()
    for _, _, rx, template, item in ops:
        if rx.match(path):
            return template, item
    return None, None


def _validator(schema):
    import jsonschema
    doc, _ = spec()
    resolver = jsonschema.RefResolver("", doc)
    return jsonschema.Draft202012Validator(schema, resolver=resolver)


def problems(method, path, status, ctype, body_bytes):
    """What is wrong with one answer (a list of strings, empty when it conforms)."""
    doc, _ = spec()
    # the router ignores a trailing slash; httpd answers HEAD as GET without a body
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    template, item = match(path)
    op = item.get(method.lower()) if item else None
    if op is None and method.upper() == "HEAD" and item:
        op = item.get("get")
        body_bytes = b""
    ctype = (ctype or "").split(";")[0].strip().lower()
    if op is None:
        # no such operation: the API answers 404/405 with the error envelope
        if path.startswith(API_PREFIX + "/") and status in (404, 405):
            schema = {"$ref": "#/components/schemas/Error"}
            return _check_json(schema, ctype, body_bytes, f"{method} {path} (no operation)")
        if status in (404, 405) and not path.startswith(API_PREFIX + "/"):
            return []  # the public handlers' own 404s (a bad file name) are plain pages
        return [f"{method} {path}: no operation in the OpenAPI documents (answered {status})"]
    responses = op.get("responses", {})
    resp = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    where = f"{method} {template} -> {status}"
    if resp is None:
        return [f"{where}: status not documented (has {', '.join(sorted(responses))})"]
    if "$ref" in resp:
        resp = _deref(doc, resp["$ref"])
    content = resp.get("content")
    if not content or method.upper() == "HEAD":
        return []
    if ctype not in content:
        if status == 304 or not body_bytes:
            return []
        return [f"{where}: Content-Type {ctype!r} not documented (has {', '.join(content)})"]
    schema = (content.get(ctype) or {}).get("schema")
    if schema is None or not ctype.endswith("json"):
        return []
    return _check_json(schema, ctype, body_bytes, where)


def _deref(doc, ref):
    node = doc
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def _check_json(schema, ctype, body_bytes, where):
    if not ctype.endswith("json"):
        return [f"{where}: expected a JSON answer, got {ctype!r}"]
    try:
        body = json.loads(body_bytes)
    except ValueError:
        return [f"{where}: the body is not JSON"]
    errs = sorted(_validator(schema).iter_errors(body), key=lambda e: list(e.absolute_path))
    out = []
    for e in errs[:3]:
        at = "/".join(str(p) for p in e.absolute_path)
        out.append(f"{where}: at /{at}: {e.message[:300]}")
    return out


def check(resp):
    """requests response hook: record what is wrong with an answer of the API."""
    try:
        url = urllib.parse.urlsplit(resp.request.url)
        if url.hostname not in ("127.0.0.1", "localhost"):
            return
        path = url.path
        if not any(path.startswith(m) or path + "/" == m for m in MOUNTS):
            return
        method = resp.request.method
        body = resp.content
        found = problems(method, path, resp.status_code, resp.headers.get("Content-Type"), body)
        rec = os.environ.get("SO_OPENAPI_RECORD")
        if rec:
            template, _ = match(path)
            with _lock, open(rec, "a") as f:
                f.write(json.dumps({"method": method, "path": path, "template": template,
                                    "status": resp.status_code,
                                    "ctype": resp.headers.get("Content-Type", ""),
                                    "body": body.decode("utf-8", "replace")
                                    if "json" in resp.headers.get("Content-Type", "") else None}) + "\n")
        if found:
            with _lock:
                violations.extend(found)
    except Exception as e:  # a bug here must show, not hide answers
        with _lock:
            violations.append(f"openapi check failed on {resp.request.method} {resp.request.url}: {e!r}")


def take():
    """The violations recorded since the last call."""
    with _lock:
        out = list(violations)
        del violations[:]
    return out


def install():
    """Check every answer of every requests.Session of this process."""
    import requests
    orig = requests.sessions.Session.send
    if getattr(orig, "_so_openapi", False):
        return

    def send(self, request, **kw):
        r = orig(self, request, **kw)
        if not kw.get("stream"):
            check(r)
        return r
    send._so_openapi = True
    requests.sessions.Session.send = send


# ---- the route tables of src/ -----------------------------------------------------------

def _table_rows(name):
    """The {"METHOD", "/path", ...} rows of the C route table `name` (any file under src/)."""
    rx = re.compile(r"so_route_t\s+" + re.escape(name) + r"\s*\[\s*\]\s*=\s*\{(.*?)\{\s*NULL", re.S)
    for f in sorted(glob.glob(os.path.join(ROOT, "src", "**", "*.c"), recursive=True)):
        with open(f) as fh:
            m = rx.search(fh.read())
        if m:
            return re.findall(r'\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"', m.group(1))
    raise LookupError(f"route table {name} not found under src/")


def routes():
    """(METHOD, full path) of every route: the API tables that src/api/so_routes.c lists
    (mounted at /v1beta), the public table (at the server root) and the seal table
    (/seal)."""
    with open(os.path.join(ROOT, "src", "api", "so_routes.c")) as f:
        text = f.read()
    tables = re.search(r"tables\[\]\s*=\s*\{(.*?)\};", text, re.S).group(1)
    names = [n for n in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", tables) if n != "NULL"]
    out = []
    for n in names:
        for method, path in _table_rows(n):
            out.append((method, API_PREFIX + path))
    for method, path in _table_rows("so_routes_public"):
        out.append((method, path))
    for method, path in _table_rows("so_routes_seal"):
        out.append((method, "/seal" + path))
    return out
