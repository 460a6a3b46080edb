#!/usr/bin/env python3
"""Draft OpenAPI 3.1 operations from the route tables, docs/api.md and recorded answers.

    SO_OPENAPI_RECORD=/tmp/answers.jsonl make test-sqlite     # record every answer
    scripts/openapi-infer.py /tmp/answers.jsonl > /tmp/draft.yaml

For every route of src/ (tests/integration/openapi.py: routes()) it writes an operation:
the summary and role from docs/api.md's tables, the path parameters, and per answered
status a response: success bodies as a JSON Schema inferred from every recorded body
(keys present in every answer are required; the types seen are the types allowed),
errors as the shared Error envelope, plus `default: Error`. Routes no test answered get
the generic envelope. docs/openapi.yaml was made this way and is maintained by hand since:
use this for a draft of new operations, then edit.
"""
import collections
import json
import os
import re
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import openapi  # noqa: E402

MAP_KEYS = 40  # an object with more distinct keys than this is a map


def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def infer(values, depth=0):
    if not values or depth > 7:
        return {}
    types = {jtype(v) for v in values}
    if {"integer", "number"} <= types:
        types.discard("integer")
    s = {}
    s["type"] = sorted(types)[0] if len(types) == 1 else sorted(types)
    objs = [v for v in values if isinstance(v, dict)]
    if objs:
        keys = collections.OrderedDict()
        for o in objs:
            for k in o:
                keys.setdefault(k, []).append(o[k])
        if len(keys) > MAP_KEYS:
            s["additionalProperties"] = infer([x for vs in keys.values() for x in vs], depth + 1)
        else:
            s["properties"] = {k: infer(vs, depth + 1) for k, vs in keys.items()}
            req = [k for k, vs in keys.items() if len(vs) == len(objs)]
            if req:
                s["required"] = req
    arrs = [v for v in values if isinstance(v, list)]
    if arrs:
        items = [x for a in arrs for x in a]
        s["items"] = infer(items, depth + 1) if items else {}
    return s


def summaries():
    """(METHOD, path below the mount) -> (summary, role) from docs/api.md's tables."""
    out = {}
    with open(os.path.join(ROOT, "docs", "api.md")) as f:
        for line in f:
            m = re.match(r"\|\s*([A-Z, /]+?)\s*\|\s*`([^`]+)`\s*\|\s*([^|]*?)\s*\|\s*(.*)\|\s*$", line)
            if not m:
                continue
            text = re.sub(r"\s*\(details below the table\)", "", m.group(4)).strip()
            first = re.split(r"(?<=[.;:])\s", text)[0].rstrip(".;:")
            for meth in re.split(r"[ ,/]+", m.group(1)):
                out[(meth, m.group(2).split("?")[0])] = (first[:160], m.group(3))
    return out


def main():
    recs = collections.defaultdict(lambda: collections.defaultdict(list))
    ctypes = collections.defaultdict(lambda: collections.defaultdict(set))
    for f in sys.argv[1:]:
        with open(f) as fh:
            for line in fh:
                r = json.loads(line)
                if not r.get("template"):
                    continue
                key = (r["method"], r["template"], r["status"])
                ct = (r["ctype"] or "").split(";")[0].strip().lower()
                ctypes[(r["method"], r["template"])][r["status"]].add(ct)
                if r["body"] is not None and "json" in ct:
                    try:
                        recs[key][ct].append(json.loads(r["body"]))
                    except ValueError:
                        pass
    summ = summaries()
    paths = {}
    for method, path in openapi.routes():
        below = path[len(openapi.API_PREFIX):] if path.startswith(openapi.API_PREFIX + "/") else path
        summary, role = summ.get((method, below), (f"{method} {below}", ""))
        op = {"summary": summary, "operationId": re.sub(r"[^A-Za-z0-9]+", "_", f"{method}{path}").strip("_")}
        if role:
            op["x-role"] = role.replace("`", "")
        params = re.findall(r"\{([^}]+)\}", path)
        if params:
            op["parameters"] = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                                for p in params]
        responses = {}
        for status in sorted(ctypes.get((method, path), {})):
            cts = ctypes[(method, path)][status]
            if status >= 400 and path.startswith(openapi.API_PREFIX + "/"):
                responses[str(status)] = {"$ref": "#/components/responses/Error"}
                continue
            if status >= 400:
                # the public handlers answer errors as plain pages
                responses[str(status)] = {"description": "error page",
                                          "content": {ct: {} for ct in sorted(cts) if ct}}
                continue
            content = {}
            for ct in sorted(cts):
                if not ct:
                    continue
                bodies = recs[(method, path, status)].get(ct)
                if bodies:
                    schema = infer(bodies)
                    if "properties" in schema and "code" in schema["properties"]:
                        schema["properties"]["code"] = {"const": 0}
                    content[ct] = {"schema": schema}
                else:
                    content[ct] = {}
            resp = {"description": "answered"}
            if content:
                resp["content"] = content
            responses[str(status)] = resp
        if not any(s.startswith("2") or s.startswith("3") for s in responses):
            responses["200"] = {"description": "success (no recorded answer: the generic envelope)",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}}}
        if path.startswith(openapi.API_PREFIX + "/"):
            responses["default"] = {"$ref": "#/components/responses/Error"}
        else:
            responses["default"] = {"description": "an error page", "content": {
                "text/html": {}, "text/plain": {}, "application/json": {}}}
        paths.setdefault(path, {})[method.lower()] = {**op, "responses": responses}
    yaml.safe_dump({"paths": paths}, sys.stdout, sort_keys=False, width=100, allow_unicode=True)


if __name__ == "__main__":
    main()
