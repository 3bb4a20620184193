"""Local stand-ins for the four registries' real HTTP APIs, serving the same
deterministic companies the dev bulk files hold (``devdata``).

    python -m registry_lookup.standins --host 127.0.0.1 --port 8790 [--per-country 25000] [--seed 1]

Paths (prefix + the registry's real path):

    /brreg/enhetsregisteret/api/enheter[/{orgnr}]            GET  (navn, navnMetodeForSoek, organisasjonsnummer, size, page)
    /brreg/enhetsregisteret/api/underenheter[/{orgnr}]       GET  (overordnetEnhet, navn, size, page)
    /brreg/enhetsregisteret/api/oppdateringer/enheter        GET  (dato | oppdateringsid, size, page)
    /ch/search/companies, /ch/company/{n}, /ch/company/{n}/uk-establishments   GET, HTTP Basic (key as user)
    /cvr/cvr-permanent/virksomhed/_search, /cvr/cvr-permanent/produktionsenhed/_search   POST ES query, HTTP Basic
    /bolagsverket/oauth2/token                               POST client credentials -> Bearer token
    /bolagsverket/vardefulla-datamangder/v1/organisationer   POST {"identitetsbeteckning"}, Bearer
    /bolagsverket/vardefulla-datamangder/v1/isalive          GET

Misbehaving on request: put ``/_fault/<mode>`` in front of any path (so in a
client's base URL): ``500``, ``503`` (HTML page), ``429`` (Retry-After: 1),
``html`` (200 with an HTML body), ``badjson``, ``401``, ``slow-<seconds>``,
``flaky-<n>`` (the first n requests on that path answer 503), ``partial``
(Bolagsverket: one data producer failed).
"""
from __future__ import annotations

import argparse
import base64
import bisect
import datetime as dt
import json
import logging
import secrets
import threading
import time
from collections import Counter

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from . import devdata, orgnr
from .text import name_key, words

CH_KEY, CVR_USER, CVR_PASSWORD = "dev-ch-key", "dev-cvr-user", "dev-cvr-password"
BV_CLIENT, BV_SECRET = "dev-client", "dev-secret"
FEED_START_ID = 24720000
FEED_EPOCH = dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc)


class Country:
    """One country's companies, searchable by number, name prefix and words."""

    def __init__(self, country: str, n: int, seed: int):
        self.companies = list(devdata.companies(country, n, seed))
        self.by_number = {c["org_number"]: c for c in self.companies}
        self.subs = {s["org_number"]: (c, s) for c in self.companies for s in c["subs"]}
        self.keys = sorted((name_key(c["name"]), c["i"]) for c in self.companies)
        self.words = [set(words(c["name"])) for c in self.companies]

    def search(self, q: str, limit: int) -> list[dict]:
        ws = words(q)
        if not ws:
            return []
        key = " ".join(ws)
        out, seen = [], set()
        start = bisect.bisect_left(self.keys, (key, -1))
        for k, i in self.keys[start:]:
            if not k.startswith(key) or len(out) >= limit:
                break
            out.append(self.companies[i])
            seen.add(i)
        for c, cw in zip(self.companies, self.words):
            if len(out) >= limit:
                break
            if c["i"] not in seen and all(any(w.startswith(q) for w in cw) for q in ws):
                out.append(c)
        return out


class Data:
    """What the stand-ins serve, plus the Brønnøysund update feed: every 50th
    Norwegian company was renamed (``Endring``) and every 97th deleted
    (``Sletting``) since the bulk file was written."""

    def __init__(self, per_country: int = 2000, seed: int = 1):
        self.countries = {c: Country(c, per_country, seed) for c in ("NO", "SE", "DK", "GB")}
        self.updates = []
        self.deleted = set()
        for c in self.countries["NO"].companies:
            if c["i"] % 97 == 13:
                self.deleted.add(c["org_number"])
                self.updates.append((c["org_number"], "Sletting"))
            elif c["i"] % 50 == 7:
                c["name"] = c["name"].replace(" AS", " HOLDING AS") if " AS" in c["name"] else c["name"] + " HOLDING"
                self.updates.append((c["org_number"], "Endring"))
        no = self.countries["NO"]
        no.keys = sorted((name_key(c["name"]), c["i"]) for c in no.companies)
        no.words = [set(words(c["name"])) for c in no.companies]
        self.feed = [{"oppdateringsid": FEED_START_ID + k, "dato": _iso(FEED_EPOCH + dt.timedelta(minutes=k)),
                      "organisasjonsnummer": org, "endringstype": change} for k, (org, change) in enumerate(self.updates)]


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _json(body, status: int = 200, content_type: str = "application/json", headers=None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type=content_type, headers=headers)


def _int(value, default: int, low: int = 0, high: int = 10000) -> int:
    try:
        return max(low, min(high, int(value)))
    except (TypeError, ValueError):
        return default


class Standins:
    """The WSGI application. ``requests`` counts hits per path (tests read it)."""

    def __init__(self, data: Data):
        self.data = data
        self.requests: Counter = Counter()
        self.user_agents: list[str] = []
        self.tokens: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    # -- faults ----------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        path = request.path
        with self._lock:
            self.requests[path] += 1
            self.user_agents.append(request.headers.get("User-Agent", ""))
            count = self.requests[path]
        fault = None
        if path.startswith("/_fault/"):
            _, _, fault, rest = path.split("/", 3)
            path = "/" + rest
        if fault:
            answer = self.fault(fault, count)
            if answer is not None:
                return answer
        try:
            return self.route(request, path, fault)
        except Exception as exc:  # a stand-in bug must still look like a server error
            return _json({"error": "Internal Server Error", "message": str(exc)}, 500)

    def fault(self, fault: str, count: int) -> Response | None:
        if fault == "500":
            return _json({"status": 500, "error": "Internal Server Error"}, 500)
        if fault == "503":
            return Response("<html><body><h1>503 Service Unavailable</h1></body></html>", 503, content_type="text/html")
        if fault == "429":
            return _json({"error": "Too Many Requests"}, 429, headers={"Retry-After": "1"})
        if fault == "html":
            return Response("<!DOCTYPE html><html><body>Planned maintenance</body></html>", 200, content_type="text/html")
        if fault == "badjson":
            return Response('{"_embedded": {"enheter": [', 200, content_type="application/json")
        if fault == "401":
            return _json({"error": "Unauthorized"}, 401)
        if fault.startswith("slow-"):
            time.sleep(float(fault[5:]))
            return None
        if fault.startswith("flaky-"):
            if count <= int(fault[6:]):
                return Response("<html><body>Bad gateway</body></html>", 503, content_type="text/html")
            return None
        return None

    # -- routing ---------------------------------------------------------
    def route(self, request: Request, path: str, fault: str | None) -> Response:
        if path.startswith("/brreg/enhetsregisteret/api/"):
            return self.brreg(request, path[len("/brreg/enhetsregisteret/api"):])
        if path.startswith("/ch/"):
            return self.companies_house(request, path[len("/ch"):])
        if path.startswith("/cvr/"):
            return self.cvr(request, path[len("/cvr"):])
        if path.startswith("/bolagsverket/"):
            return self.bolagsverket(request, path[len("/bolagsverket"):], fault)
        return _json({"error": "Not Found", "path": path}, 404)

    # -- Brønnøysund -----------------------------------------------------
    def brreg(self, request: Request, path: str) -> Response:
        no = self.data.countries["NO"]
        base = request.host_url.rstrip("/") + "/brreg/enhetsregisteret/api"
        args = request.args
        size, page = _int(args.get("size"), 20, 1, 10000), _int(args.get("page"), 0)

        def not_found(kind):
            return _json({"timestamp": _iso(dt.datetime.now(dt.timezone.utc)), "status": 404, "error": "Not Found",
                          "message": f"Ingen {kind} med organisasjonsnummer {path.rsplit('/', 1)[-1]}", "path": path}, 404)

        def page_of(kind, items, key=None):
            total = len(items)
            chunk = items[page * size:(page + 1) * size]
            body = {"_links": {"self": {"href": request.url}},
                    "page": {"size": size, "totalElements": total, "totalPages": -(-total // size), "number": page}}
            if chunk:
                body = {"_embedded": {key or kind: chunk}, **body}
            return _json(body)

        if path == "/enheter":
            if args.get("organisasjonsnummer"):
                found = [no.by_number[o] for o in args["organisasjonsnummer"].split(",") if o in no.by_number]
            elif args.get("navn"):
                found = no.search(args["navn"], (page + 1) * size)
            else:
                found = no.companies[: (page + 1) * size]
            found = [c for c in found if c["org_number"] not in self.data.deleted]
            return page_of("enheter", [devdata.brreg_enhet(c, base) for c in found])
        if path.startswith("/enheter/"):
            number = path.rsplit("/", 1)[-1]
            if number in self.data.deleted:
                return _json({"organisasjonsnummer": number, "navn": no.by_number[number]["name"].upper(),
                              "slettedato": "2025-06-01", "_links": {"self": {"href": f"{base}/enheter/{number}"}}}, 410)
            c = no.by_number.get(number)
            return _json(devdata.brreg_enhet(c, base)) if c else not_found("enhet")
        if path == "/underenheter":
            parent = args.get("overordnetEnhet")
            if parent:
                c = no.by_number.get(parent)
                found = devdata.brreg_underenheter(c, base) if c else []
            else:
                found = [u for c in no.companies[:size] for u in devdata.brreg_underenheter(c, base)]
            return page_of("underenheter", found)
        if path.startswith("/underenheter/"):
            number = path.rsplit("/", 1)[-1]
            hit = no.subs.get(number)
            if not hit:
                return not_found("underenhet")
            return _json(next(u for u in devdata.brreg_underenheter(hit[0], base) if u["organisasjonsnummer"] == number))
        if path == "/oppdateringer/enheter":
            feed = self.data.feed
            if args.get("oppdateringsid"):
                start = _int(args["oppdateringsid"], 0, 0, 1 << 62)
                feed = [u for u in feed if u["oppdateringsid"] >= start]
            elif args.get("dato"):
                feed = [u for u in feed if u["dato"] >= args["dato"]]
            items = [{**u, "_links": {"enhet": {"href": f"{base}/enheter/{u['organisasjonsnummer']}"}}} for u in feed]
            return page_of("oppdaterteEnheter", items)
        if path == "/oppdateringer/underenheter":
            return page_of("oppdaterteUnderenheter", [])
        return _json({"status": 404, "error": "Not Found", "path": path}, 404)

    # -- Companies House -------------------------------------------------
    def companies_house(self, request: Request, path: str) -> Response:
        if not _basic_ok(request, CH_KEY, None):
            return _json({"error": "Invalid Authorization", "type": "ch:service"}, 401)
        gb = self.data.countries["GB"]
        if path == "/search/companies":
            q = request.args.get("q", "")
            per_page = _int(request.args.get("items_per_page"), 20, 1, 100)
            start = _int(request.args.get("start_index"), 0)
            found = gb.search(q, start + per_page) if q else []
            items = [devdata.ch_search_item(c) for c in found[start:start + per_page]]
            return _json({"items": items, "kind": "search#companies", "page_number": start // per_page + 1,
                          "items_per_page": per_page, "total_results": len(found), "start_index": start})
        parts = path.strip("/").split("/")
        if parts[0] == "company" and len(parts) >= 2:
            number = parts[1].upper()
            c = gb.by_number.get(number)
            sub = gb.subs.get(number)
            if len(parts) == 2:
                if c:
                    return _json(devdata.ch_profile(c))
                if sub:
                    return _json(devdata.ch_establishment_profile(*sub))
            elif len(parts) == 3 and parts[2] == "uk-establishments" and c:
                return _json(devdata.ch_establishments(c))
            return _json({"errors": [{"error": "company-profile-not-found", "type": "ch:service"}]}, 404)
        return _json({"errors": [{"error": "not-found", "type": "ch:service"}]}, 404)

    # -- CVR (Elasticsearch) -----------------------------------------------
    def cvr(self, request: Request, path: str) -> Response:
        if not _basic_ok(request, CVR_USER, CVR_PASSWORD):
            return _json({"error": {"root_cause": [{"type": "security_exception", "reason": "missing authentication token"}],
                                    "type": "security_exception", "reason": "missing authentication token"}, "status": 401},
                         401, headers={"WWW-Authenticate": 'Basic realm="security"'})
        dk = self.data.countries["DK"]
        try:
            body = json.loads(request.get_data(as_text=True) or "{}")
            query = body.get("query") or {"match_all": {}}
            size = _int(body.get("size"), 10, 0, 3000)
            (kind, clause), = query.items()
            (field, value), = clause.items() if clause else (("", None),)
        except (ValueError, AttributeError):
            return _es_error("parsing_exception", "Failed to parse the query")
        started = time.perf_counter()
        hits = []
        if path == "/cvr-permanent/virksomhed/_search":
            if kind == "term" and field == "Vrvirksomhed.cvrNummer":
                c = dk.by_number.get(f"{int(value):08d}")
                hits = [devdata.cvr_hit(devdata.cvr_virksomhed(c))] if c else []
            elif kind == "match_phrase_prefix" and field.startswith("Vrvirksomhed.virksomhedMetadata.nyesteNavn.navn"):
                text = value.get("query") if isinstance(value, dict) else value
                hits = [devdata.cvr_hit(devdata.cvr_virksomhed(c)) for c in dk.search(str(text), size)]
            elif kind == "match_all":
                hits = [devdata.cvr_hit(devdata.cvr_virksomhed(c)) for c in dk.companies[:size]]
            else:
                return _es_error("query_shard_exception", f"stand-in does not support [{kind}] on [{field}]")
        elif path == "/cvr-permanent/produktionsenhed/_search":
            if kind == "term" and field == "VrproduktionsEnhed.virksomhedsrelation.cvrNummer":
                c = dk.by_number.get(f"{int(value):08d}")
                hits = [devdata.cvr_hit(p, "produktionsenhed") for p in devdata.cvr_produktionsenheder(c)] if c else []
            elif kind == "term" and field == "VrproduktionsEnhed.pNummer":
                hit = dk.subs.get(str(value))
                hits = [devdata.cvr_hit(p, "produktionsenhed") for p in devdata.cvr_produktionsenheder(hit[0])
                        if str(p["pNummer"]) == str(value)] if hit else []
            else:
                return _es_error("query_shard_exception", f"stand-in does not support [{kind}] on [{field}]")
        else:
            return _json({"error": {"type": "index_not_found_exception", "reason": "no such index"}, "status": 404}, 404)
        hits = hits[:size]
        return _json({"took": int((time.perf_counter() - started) * 1000), "timed_out": False,
                      "_shards": {"total": 6, "successful": 6, "skipped": 0, "failed": 0},
                      "hits": {"total": len(hits), "max_score": 1.0 if hits else None, "hits": hits}})

    # -- Bolagsverket ----------------------------------------------------
    def bolagsverket(self, request: Request, path: str, fault: str | None) -> Response:
        if path == "/oauth2/token":
            form = request.form
            client_id, secret = form.get("client_id"), form.get("client_secret")
            if request.authorization and request.authorization.type == "basic":
                client_id, secret = request.authorization.username, request.authorization.password
            if form.get("grant_type") != "client_credentials":
                return _json({"error": "unsupported_grant_type"}, 400)
            if (client_id, secret) != (BV_CLIENT, BV_SECRET):
                return _json({"error": "invalid_client", "error_description": "Client authentication failed"}, 401)
            token = secrets.token_urlsafe(24)
            with self._lock:
                self.tokens.add(token)
            return _json({"access_token": token, "scope": form.get("scope", "vardefulla-datamangder:read"),
                          "token_type": "Bearer", "expires_in": 3600})
        if not path.startswith("/vardefulla-datamangder/v1/"):
            return _json({"error": "Not Found"}, 404)
        path = path[len("/vardefulla-datamangder/v1"):]
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return _bv_error(401, "Unauthorized", "Ogiltig eller saknad åtkomsttoken.")
        if path == "/isalive" and request.method == "GET":
            return Response("OK", content_type="text/plain")
        if path != "/organisationer" or request.method != "POST":
            return _bv_error(404, "Not Found", "Resursen finns inte.")
        try:
            ident = str((json.loads(request.get_data(as_text=True)) or {}).get("identitetsbeteckning", ""))
        except ValueError:
            return _bv_error(400, "Bad Request", "Ogiltig begäran.")
        if not ident.isdigit() or len(ident) not in (10, 12):
            return _bv_error(400, "Bad Request", "Identitetsbeteckning har felaktigt format.")
        if orgnr.luhn_check_digit(ident[-10:-1]) != int(ident[-1]):
            return _bv_error(400, "Bad Request", "Identitetsbeteckning har ogiltig kontrollsiffra.")
        c = self.data.countries["SE"].by_number.get(ident[-10:])
        if c is None:
            return _json({"organisationer": []})
        org = devdata.bolagsverket_organisation(c)
        if fault == "partial":
            down = {"felBeskrivning": "Uppkoppling mot Bolagsverket misslyckades. Efterfrågade uppgifter kunde inte hämtas.",
                    "typ": "OTILLGANGLIG_UPPGIFTSKALLA"}
            for key in ("organisationsnamn", "organisationsform", "organisationsdatum", "verksamhetsbeskrivning"):
                org[key] = {"dataproducent": "Bolagsverket", "fel": down}
            org["organisationsidentitet"] = None
        return _json({"organisationer": [org]})


def _basic_ok(request: Request, user: str, password: str | None) -> bool:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        got_user, _, got_password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    return got_user == user and (password is None or got_password == password)


def _es_error(kind: str, reason: str) -> Response:
    return _json({"error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind, "reason": reason},
                  "status": 400}, 400)


def _bv_error(status: int, title: str, detail: str) -> Response:
    return _json({"type": "about:blank", "instance": "client.error" if status < 500 else "server.error",
                  "timestamp": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "requestId": secrets.token_hex(8), "status": status, "title": title, "detail": detail},
                 status, content_type="application/problem+json")


def serve(app: Standins, host: str = "127.0.0.1", port: int = 0):
    """Start a threaded werkzeug server in a background thread; returns the
    server (``server.port``, ``server.shutdown()``)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="registry-standins", daemon=True)
    thread.start()
    return server


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--per-country", type=int, default=25000,
                        help="companies per country (more than the dev index's 20000, so some are live-only)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    data = Data(args.per_country, args.seed)
    print(f"registry stand-ins on http://{args.host}:{args.port} ({args.per_country} companies per country)", flush=True)
    make_server(args.host, args.port, Standins(data), threaded=True).serve_forever()


if __name__ == "__main__":
    main()
