import json, os, sys, urllib.request, urllib.error
BASE = f"http://{os.environ['MR_HTTP_HOST']}:{os.environ['MR_HTTP_PORT']}"
def check(cond, *what):
    if not cond:
        print("FAILED:", *what)
        sys.exit(1)
def call(method, path, body=None, token=None, cookie=None, extra=None):
    """(status, JSON body or None, headers)"""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if cookie:
        req.add_header("Cookie", cookie)
    for name, value in (extra or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None), r.headers
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, (json.loads(raw) if raw else None), e.headers
def login(user, password, totp=None):
    body = {"username": user, "password": password}
    if totp:
        body["totp"] = totp
    return call("POST", "/api/v1/auth/login", body)
def error_of(reply):
    return reply[0], reply[1]["error"]["code"], reply[1]["error"]["message"]
