"""A local stand-in for the Creditsafe Connect API v1, for development and tests.

    python -m credit_monitor.standin --host 127.0.0.1 --port 8791

Base URL ``http://HOST:PORT/v1``. It speaks the paths, envelopes, auth and
error bodies of the Connect OpenAPI spec (v1.10.4):

    POST   /v1/authenticate                                        {"username","password"} -> {"token"}
    GET    /v1/companies?countries=&regNo=[&page&pageSize]         search (or the NoResults shape)
    GET    /v1/companies/{connectId}                               credit report (CompanyReportResponse)
    GET    /v1/monitoring/portfolios[?searchQuery&page&pageSize]   list (0-based pages)
    POST   /v1/monitoring/portfolios                               create
    GET    /v1/monitoring/portfolios/{id}/companies                companies in a portfolio (paged)
    POST   /v1/monitoring/portfolios/{id}/companies                add {"id","personalReference","freeText","personalLimit"}
    POST   /v1/monitoring/portfolios/{id}/import                   import a file (multipart ``importCsv``): CSV with a
                                                                   ``Safe Number`` column (connectIds accepted too);
                                                                   "Accepted for processing. Import Id N", processed
                                                                   ``--import-delay`` seconds later (asynchronous, as
                                                                   Creditsafe's); duplicates and unknown numbers ignored
    GET    /v1/monitoring/portfolios/{id}/companies/{companyId}    one company
    DELETE /v1/monitoring/portfolios/{id}/companies/{companyId}    remove
    GET    /v1/monitoring/notificationEvents                       every portfolio of the user
    GET    /v1/monitoring/portfolios/{id}/notificationEvents       one portfolio (startDate, sortBy, page 0-based, pageSize)

The server speaks HTTP/1.1 with keep-alive (werkzeug's development server
closes every connection, which made each call a new TCP connection and thread).

Every call but /authenticate needs ``Authorization: Bearer <token>``; tokens
live ``--token-ttl`` seconds (default 3600, as Creditsafe's). Portfolios
belong to the user that created them.

Companies: any well-formed NO/SE/DK/GB registration number is known, with a
deterministic name and rating, except about one number in fifteen (and every
number ending in ``000``), which Creditsafe "does not know" (NoResults).

Dev/test-only control endpoints (never part of the real API; off with ``--no-control``):

    POST /_control/rating   {"country","regNo"} or {"connectId"}, optional "band","score","limit"
                            -> the new rating; a notification event appears in every portfolio holding it
    POST /_control/ratings  {"changes": [{...as above...}]}  many at once (benchmarks)
    GET  /_control/stats    {"authenticate": n, "requests": {"GET /v1/companies": n, ...}, "tokens": n}
    POST /_control/reset    forget tokens, counters, faults (companies and portfolios stay)
    POST /_control/fault    {"mode": "down"|"slow"|"500"|"429"|"expire-tokens"|null, "count"?, "seconds"?}
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import itertools
import math
import re
import secrets
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timezone

import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from werkzeug.wrappers import Request, Response

DEV_USERNAME, DEV_PASSWORD = "dev-creditsafe-user", "dev-creditsafe-password"
COUNTRIES = {"NO": "NOK", "SE": "SEK", "DK": "DKK", "GB": "GBP"}
DESCRIPTIONS = {"A": "Very Low Risk", "B": "Low Risk", "C": "Moderate Risk", "D": "High Risk", "E": "Not Rated"}
REG_NO = {"NO": re.compile(r"^\d{9}$"), "SE": re.compile(r"^\d{10}$"), "DK": re.compile(r"^\d{8}$"),
          "GB": re.compile(r"^(?:\d{8}|[A-Z]{2}\d{6})$")}
WORDS_A = ["Nordic", "Fjord", "Aurora", "Viking", "Granite", "Harbour", "Polar", "Birch", "Atlas", "Summit", "Baltic",
           "Lindqvist", "Hansen", "Berg", "Thames", "Kestrel"]
WORDS_B = ["Bygg", "Logistikk", "Consulting", "Engineering", "Shipping", "Data", "Industri", "Handel", "Systems",
           "Energy", "Foods", "Transport", "Property", "Media", "Care", "Solutions"]
SUFFIX = {"NO": "AS", "SE": "AB", "DK": "ApS", "GB": "Ltd"}


def band_for(score: int) -> str:
    """Creditsafe's international bands from the 1-100 score."""
    if score >= 71:
        return "A"
    if score >= 51:
        return "B"
    if score >= 30:
        return "C"
    if score >= 21:
        return "D"
    return "E"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def connect_id(country: str, reg_no: str) -> str:
    return f"{country}-{'0' if country == 'GB' else 'X'}-{reg_no}"


class Company:
    def __init__(self, country: str, reg_no: str):
        digest = hashlib.sha256(f"{country}:{reg_no}".encode()).digest()
        self.country, self.reg_no = country, reg_no
        self.id = connect_id(country, reg_no)
        self.safe_no = f"{country}{int.from_bytes(digest[8:12], 'big') % 10**8:08d}"
        self.name = f"{WORDS_A[digest[0] % 16]} {WORDS_B[digest[1] % 16]} {SUFFIX[country]}"
        self.score = 8 + digest[2] % 90
        self.band = band_for(self.score)
        self.limit = self._limit(self.score, digest[3])
        self.previous: tuple | None = None
        self.changed_at = "2025-03-01T00:00:00"

    @staticmethod
    def _limit(score: int, salt: int = 0) -> int:
        return 0 if score < 21 else int(score * score * (40 + salt % 60) // 1000) * 1000

    def rating(self, previous: bool = False) -> dict:
        band, score, limit = self.previous if previous and self.previous else (self.band, self.score, self.limit)
        return {
            "commonValue": band,
            "commonDescription": DESCRIPTIONS[band],
            "creditLimit": {"currency": COUNTRIES[self.country], "value": str(limit)} if limit else
                           {"value": "Credit Limit not applicable"},
            "providerValue": {"minValue": "1", "maxValue": "100", "value": str(score)},
            "providerDescription": DESCRIPTIONS[band],
        }


class State:
    def __init__(self, users: dict, token_ttl: float, seed_portfolio_id: int = 131318, import_delay: float = 0.2):
        self.lock = threading.RLock()
        self.import_delay = import_delay
        self.by_safe_no: dict[str, Company] = {}
        self.imports: dict[int, dict] = {}
        self.next_import = 339523
        self.users = users
        self.token_ttl = token_ttl
        self.tokens: dict[str, tuple[str, float]] = {}
        self.companies: dict[str, Company] = {}
        self.portfolios: dict[int, dict] = {}
        self.next_portfolio = seed_portfolio_id
        self.next_event = 426992366
        self.counts: Counter = Counter()
        self.auth_count = 0
        self.fault: dict | None = None

    # -- companies -------------------------------------------------------
    def company(self, country: str, reg_no: str) -> Company | None:
        reg_no = reg_no.replace(" ", "").replace("-", "").upper()
        if country not in COUNTRIES or not REG_NO[country].match(reg_no):
            return None
        if reg_no.endswith("000") or int(hashlib.sha256(f"known:{country}:{reg_no}".encode()).hexdigest(), 16) % 15 == 0:
            return None
        key = connect_id(country, reg_no)
        with self.lock:
            company = self.companies.get(key)
            if company is None:
                company = self.companies[key] = Company(country, reg_no)
                self.by_safe_no[company.safe_no] = company
            return company

    def by_connect_id(self, cid: str) -> Company | None:
        known = self.companies.get(cid)
        if known is not None:
            return known
        parts = cid.split("-", 2)
        if len(parts) != 3:
            return None
        return self.company(parts[0], parts[2])

    def change_rating(self, spec: dict) -> dict:
        company = (self.by_connect_id(spec["connectId"]) if spec.get("connectId")
                   else self.company(str(spec.get("country", "")).upper(), str(spec.get("regNo", ""))))
        if company is None:
            raise KeyError("unknown company")
        with self.lock:
            old = (company.band, company.score, company.limit)
            score = int(spec["score"]) if spec.get("score") is not None else (
                {"A": 85, "B": 60, "C": 40, "D": 25, "E": 10}[spec["band"]] if spec.get("band")
                else max(1, min(100, company.score - 23 if company.score > 40 else company.score + 31)))
            if not 1 <= score <= 100:
                raise ValueError("score must be 1..100")
            band = spec.get("band") or band_for(score)
            if band not in DESCRIPTIONS:
                raise ValueError("band must be A-E")
            limit = int(spec["limit"]) if spec.get("limit") is not None else Company._limit(score, len(company.name))
            company.previous, company.band, company.score, company.limit = old, band, score, limit
            company.changed_at = _now()
            for pid, portfolio in self.portfolios.items():
                entry = portfolio["companies"].get(company.id)
                if entry is None:
                    continue
                entry["dateLastEvent"] = company.changed_at
                if old[0] != band:
                    self._event(portfolio, pid, company, 101, "International Rating Change",
                                f"International rating changed from {old[0]} to {band}", old[0], band)
                if old[1] != score:
                    self._event(portfolio, pid, company, 1801, "Local Rating Change",
                                f"Local score changed from {old[1]} to {score}", str(old[1]), str(score))
                if old[2] != limit:
                    self._event(portfolio, pid, company, 1802, "Credit Limit Change",
                                f"Credit limit changed from {old[2]} to {limit}", str(old[2]), str(limit))
            return {"connectId": company.id, "band": band, "score": score, "limit": limit}

    def queue_import(self, pid: int, rows: list[dict]) -> int:
        """An accepted import file, processed ``import_delay`` seconds later (Creditsafe queues them)."""
        with self.lock:
            self.next_import += 1
            import_id = self.next_import
            self.imports[import_id] = {"portfolioId": pid, "rows": len(rows), "added": 0, "status": "queued"}
        if self.import_delay > 0:
            timer = threading.Timer(self.import_delay, self.process_import, (import_id, pid, rows))
            timer.daemon = True
            timer.start()
        else:
            self.process_import(import_id, pid, rows)
        return import_id

    def process_import(self, import_id: int, pid: int, rows: list[dict]) -> None:
        added = 0
        with self.lock:
            portfolio = self.portfolios.get(pid)
            if portfolio is not None:
                stamp = _now()
                for row in rows:
                    key = (row.get("safe number") or "").strip()
                    company = self.by_safe_no.get(key) or (self.by_connect_id(key) if "-" in key else None)
                    if company is None or company.id in portfolio["companies"]:
                        continue  # unknown numbers and duplicates are ignored
                    portfolio["companies"][company.id] = {
                        "dateAdded": stamp, "personalReference": row.get("personal reference") or None,
                        "freeText": row.get("free text") or None, "personalLimit": row.get("personal limit") or None}
                    added += 1
            self.imports[import_id].update(added=added, status="processed")

    def _event(self, portfolio, pid, company, code, rule, summary, old, new):
        self.next_event += 1
        portfolio["events"].append({
            "company": {"id": company.id, "safeNumber": company.safe_no, "name": company.name,
                        "countryCode": company.country, "portfolioId": pid, "portfolioName": portfolio["name"]},
            "eventId": self.next_event, "eventDate": company.changed_at, "newValue": new, "oldValue": old,
            "notificationEventId": 51861887 + self.next_event - 426992366, "notificationId": None,
            "processedDate": None, "ruleCode": code, "ruleName": rule, "summary": summary, "ruleText": summary,
            "localEventCode": f"LI{code}", "isProcessed": False,
        })


_ID_IN_PATH = re.compile(r"/[A-Z]{2}-[X0]-[^/]+|/[0-9]+")


def _json(body, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _cid() -> str:
    return str(uuid.uuid1())


def _bad(message: str, details: str = "") -> Response:
    return _json({"correlationId": _cid(), "message": message, "details": details}, 400)


def _paging(total: int, page: int, size: int) -> dict:
    last = max(0, math.ceil(total / size) - 1) if size else 0
    return {"size": size, "prev": page - 1 if page > 0 else None, "next": page + 1 if page < last else None, "last": last}


def _int(value, default: int, low: int = 0, high: int = 10**6) -> int:
    if value in (None, ""):
        return default
    number = int(value)
    if not low <= number <= high:
        raise ValueError
    return number


class Standin:
    def __init__(self, state: State, control: bool = True):
        self.state = state
        self.control = control

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except ValueError:
            response = _bad("Invalid request parameters", "A parameter has an invalid value")
        return response(environ, start_response)

    # -- routing ---------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if path.startswith("/_control/"):
            if not self.control:
                return _json({"message": "Not found"}, 404)
            return self.control_endpoint(request, path[len("/_control/"):])
        if not path.startswith("/v1/"):
            return _json({"message": "Not found"}, 404)
        path = path[3:]
        s = self.state
        with s.lock:
            s.counts[f"{request.method} {_ID_IN_PATH.sub('/{id}', '/v1' + path)}"] += 1
            fault = s.fault
        if fault:
            delayed = self.apply_fault(fault)
            if delayed is not None:
                return delayed
        if path == "/authenticate" and request.method == "POST":
            return self.authenticate(request)
        user = self.user(request)
        if user is None:
            return _json({"error": "Invalid or expired token"}, 401)
        m = request.method
        if path == "/companies" and m == "GET":
            return self.search(request)
        match = re.fullmatch(r"/companies/([^/]+)", path)
        if match and m == "GET":
            return self.report(match.group(1))
        if path == "/monitoring/portfolios":
            return self.list_portfolios(request, user) if m == "GET" else self.create_portfolio(request, user)
        if path == "/monitoring/notificationEvents" and m == "GET":
            return self.events(request, [p for p, v in s.portfolios.items() if v["owner"] == user])
        match = re.fullmatch(r"/monitoring/portfolios/([^/]+)(/.*)?", path)
        if match:
            try:
                pid = int(match.group(1))
            except ValueError:
                return _bad("Invalid portfolioId", "portfolioId must be a number")
            portfolio = s.portfolios.get(pid)
            if portfolio is None or portfolio["owner"] != user:
                return _json({"message": "Portfolio not found"}, 404)
            rest = match.group(2) or ""
            if rest == "/companies":
                return self.portfolio_companies(request, pid, portfolio) if m == "GET" else self.add(request, pid, portfolio)
            if rest == "/notificationEvents" and m == "GET":
                return self.events(request, [pid])
            if rest == "/import" and m == "POST":
                return self.import_file(request, pid)
            one = re.fullmatch(r"/companies/([^/]+)", rest)
            if one:
                return self.one_company(m, pid, portfolio, one.group(1))
        return _json({"message": "Resource not found"}, 404)

    def apply_fault(self, fault: dict) -> Response | None:
        s = self.state
        mode = fault.get("mode")
        with s.lock:
            if fault.get("count") is not None:
                if fault["count"] <= 0:
                    s.fault = None
                    return None
                fault["count"] -= 1
        if mode == "down":
            return Response("<html><body><h1>503 Service Unavailable</h1></body></html>", status=503,
                            content_type="text/html")
        if mode == "500":
            return _json({"correlationId": _cid(), "message": "Internal Server Error"}, 500)
        if mode == "429":
            return Response(json.dumps({"message": "Too Many Requests"}), status=429,
                            content_type="application/json", headers={"Retry-After": "1"})
        if mode == "slow":
            time.sleep(float(fault.get("seconds", 5)))
        return None

    def user(self, request: Request) -> str | None:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else header
        with self.state.lock:
            entry = self.state.tokens.get(token)
        if entry is None or entry[1] < time.time():
            return None
        return entry[0]

    # -- authentication ----------------------------------------------------
    def authenticate(self, request: Request) -> Response:
        s = self.state
        with s.lock:
            s.auth_count += 1
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not body.get("username") or not body.get("password"):
            return _bad("Invalid request", "username and password are required")
        if s.users.get(body["username"]) != body["password"]:
            return _json({"message": "Invalid username or password"}, 401)
        header = _b64({"alg": "none", "typ": "JWT"})
        now = int(time.time())
        claims = _b64({"nbf": now, "exp": now + int(s.token_ttl), "iss": "creditsafe-standin", "username": body["username"]})
        token = f"{header}.{claims}.{secrets.token_urlsafe(24)}"
        with s.lock:
            s.tokens[token] = (body["username"], time.time() + s.token_ttl)
        return _json({"token": token})

    # -- companies -----------------------------------------------------------
    def search(self, request: Request) -> Response:
        args = request.args
        countries = [c.strip().upper() for c in args.get("countries", "").split(",") if c.strip()]
        if not countries:
            return _bad("Invalid request parameters", "countries is required")
        reg_no = args.get("regNo", "").strip()
        if not reg_no:
            return _bad("Invalid request parameters", "At least one search criterion (regNo) is required")
        page, size = _int(args.get("page"), 1, 1), _int(args.get("pageSize"), 10, 1, 1000)
        found = [c for c in (self.state.company(country, reg_no) for country in countries) if c is not None]
        if not found or page > 1:
            return _json({"totalSize": 0, "companies": {},
                          "messages": [{"type": "Information", "code": "NoResults", "text": "No results found"}]})
        return _json({"correlationId": _cid(), "totalSize": len(found), "companies": [
            {"id": c.id, "country": c.country, "regNo": c.reg_no, "safeNo": c.safe_no, "idType": "Other",
             "name": c.name, "type": "Ltd", "officeType": "headOffice", "status": "Active", "vatNo": None,
             "address": {"type": "Registered", "simpleValue": None, "street": None, "houseNumber": None,
                         "city": None, "postalCode": None, "province": None, "telephone": None,
                         "directMarketingOptOut": None, "directMarketingOptIn": None, "country": c.country},
             "activity": {"code": None, "industrySector": None, "description": None, "classification": None},
             "legalForm": SUFFIX[c.country], "additionalData": {}, "dateOfLatestAccounts": None,
             "dateOfLatestChange": c.changed_at, "activityCode": None}
            for c in found[:size]]})

    def report(self, cid: str) -> Response:
        c = self.state.by_connect_id(cid)
        if c is None:
            return _bad("Invalid connectId", f"No company found with connectId {cid}")
        with self.state.lock:
            current, previous = c.rating(), c.rating(previous=True)
            changed = c.changed_at
        return _json({
            "correlationId": _cid(), "failedSections": [], "companyId": c.id, "dateOfOrder": _now() + "Z",
            "language": "en", "userId": "101520285",
            "report": {
                "companyId": c.id, "language": "EN",
                "companySummary": {"businessName": c.name, "country": c.country, "companyNumber": c.safe_no,
                                   "companyRegistrationNumber": c.reg_no,
                                   "companyStatus": {"status": "Active", "description": "Active"},
                                   "creditRating": current},
                "companyIdentification": {"basicInformation": {
                    "businessName": c.name, "registeredCompanyName": c.name, "companyRegistrationNumber": c.reg_no,
                    "country": c.country, "legalForm": {"description": SUFFIX[c.country]},
                    "companyStatus": {"status": "Active", "description": "Active"}}},
                "creditScore": {"currentCreditRating": current, "previousCreditRating": previous,
                                "currentContractLimit": {"currency": COUNTRIES[c.country], "value": c.limit},
                                "latestRatingChangeDate": changed + "Z"},
            },
        })

    # -- portfolios --------------------------------------------------------------
    def list_portfolios(self, request: Request, user: str) -> Response:
        q = request.args.get("searchQuery", "").strip().casefold()
        page, size = _int(request.args.get("page"), 0), _int(request.args.get("pageSize"), 10, 1, 1000)
        with self.state.lock:
            mine = [(pid, p) for pid, p in sorted(self.state.portfolios.items())
                    if p["owner"] == user and (not q or q in p["name"].casefold())]
        rows = mine[page * size:(page + 1) * size]
        return _json({"correlationId": _cid(), "totalCount": len(mine), "paging": _paging(len(mine), page, size),
                      "data": {"portfolios": [{"portfolioId": pid, "name": p["name"], "isDefault": p["isDefault"],
                                               "emails": p["emails"], "isSharedPortfolio": 0} for pid, p in rows],
                               "sharedPortfolios": []}})

    def create_portfolio(self, request: Request, user: str) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not str(body.get("name") or "").strip():
            return _bad("Invalid request", "name is required")
        s = self.state
        with s.lock:
            s.next_portfolio += 1
            pid = s.next_portfolio
            s.portfolios[pid] = {"owner": user, "name": body["name"].strip(), "isDefault": bool(body.get("isDefault")),
                                 "emails": body.get("emails") or [], "companies": {}, "events": []}
        return _json({"correlationId": _cid(), "portfolioId": pid, "name": body["name"].strip(),
                      "isDefault": bool(body.get("isDefault"))})

    def _entry(self, pid: int, c: Company, entry: dict) -> dict:
        return {"id": c.id, "safeNumber": c.safe_no, "name": c.name, "address": None, "countryCode": c.country,
                "portfolioId": pid, "creditLimit": c.limit, "dateLastEvent": entry.get("dateLastEvent"),
                "freeText": entry.get("freeText"), "personalLimit": entry.get("personalLimit"),
                "personalReference": entry.get("personalReference"), "ratingCommon": c.band,
                "ratingLocal": str(c.score), "companyStatus": 1, "dateAdded": entry["dateAdded"],
                "dateModified": entry.get("dateModified")}

    def portfolio_companies(self, request: Request, pid: int, portfolio: dict) -> Response:
        page, size = _int(request.args.get("page"), 0), _int(request.args.get("pageSize"), 10, 1, 1000)
        with self.state.lock:
            total = len(portfolio["companies"])
            window = itertools.islice(portfolio["companies"].items(), page * size, (page + 1) * size)
            rows = [self._entry(pid, self.state.companies[cid], e) for cid, e in window]
        return _json({"correlationId": _cid(), "totalCount": total, "paging": _paging(total, page, size),
                      "data": rows})

    def add(self, request: Request, pid: int, portfolio: dict) -> Response:
        body = request.get_json(silent=True)
        required = ("id", "personalReference", "freeText", "personalLimit")
        if not isinstance(body, dict) or any(k not in body for k in required) or not body.get("id"):
            return _bad("Invalid request", "id, personalReference, freeText and personalLimit are required")
        c = self.state.by_connect_id(str(body["id"]))
        if c is None:
            return _json({"message": "Company resource not found"}, 404)
        with self.state.lock:
            if c.id in portfolio["companies"]:
                return _json({"correlationId": _cid(), "message": f"Company  {c.id} already in portfolio"}, 409)
            portfolio["companies"][c.id] = {"dateAdded": _now(), "personalReference": body["personalReference"],
                                            "freeText": body["freeText"], "personalLimit": body["personalLimit"]}
        return _json({"correlationId": _cid(), "message": "Company Added"})

    def import_file(self, request: Request, pid: int) -> Response:
        """``POST /monitoring/portfolios/{id}/import`` (multipart/form-data; the spec's example names the file
        part ``importCsv``, its schema ``importcsv``: both are read)."""
        upload = next((f for name, f in request.files.items() if name.lower() == "importcsv"), None)
        if upload is None:
            return _bad("Invalid request", "importCsv (the file) is required")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            return _bad("Invalid file", "The import file must be a UTF-8 .csv file")
        first = text.split("\n", 1)[0]
        reader = csv.DictReader(io.StringIO(text), delimiter=";" if first.count(";") > first.count(",") else ",")
        headers = {(h or "").strip().lower() for h in reader.fieldnames or []}
        if "safe number" not in headers:
            return _bad("Invalid file", "The import file needs a 'Safe Number' column")
        rows = [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()} for row in reader]
        import_id = self.state.queue_import(pid, rows)
        return _json({"correlationId": _cid(), "status": f"Accepted for processing. Import Id {import_id}"})

    def one_company(self, method: str, pid: int, portfolio: dict, cid: str) -> Response:
        with self.state.lock:
            entry = portfolio["companies"].get(cid)
            if entry is None:
                if method == "DELETE":
                    return Response('{"message": "Company not found" }', status=404, content_type="application/json")
                return _json({"message": "Company not found"}, 404)
            if method == "DELETE":
                del portfolio["companies"][cid]
                return _json({"correlationId": _cid(), "message": "Company removed"})
            if method == "GET":
                return _json({"correlationId": _cid(), **self._entry(pid, self.state.companies[cid], entry)})
        return _json({"message": "Resource not found"}, 404)

    def events(self, request: Request, pids: list[int]) -> Response:
        args = request.args
        page, size = _int(args.get("page"), 0), _int(args.get("pageSize"), 10, 1, 1000)
        start, end = args.get("startDate", "").strip(), args.get("endDate", "").strip()
        sort_by = args.get("sortBy", "eventDate")
        if sort_by not in ("companyName", "countryCode", "eventId", "eventDate"):
            return _bad("Invalid request parameters", "sortBy must be companyName, countryCode, eventId or eventDate")
        start, end = (_date_arg(start) if start else ""), (_date_arg(end) if end else "")
        with self.state.lock:
            rows = [e for pid in pids for e in self.state.portfolios[pid]["events"]
                    if (not start or e["eventDate"] >= start) and (not end or e["eventDate"] <= end)]
        keys = {"companyName": lambda e: (e["company"]["name"], e["eventId"]),
                "countryCode": lambda e: (e["company"]["countryCode"], e["eventId"]),
                "eventId": lambda e: e["eventId"], "eventDate": lambda e: (e["eventDate"], e["eventId"])}
        rows.sort(key=keys[sort_by], reverse=args.get("sortDir", "asc").lower() == "desc")
        return _json({"correlationId": _cid(), "totalCount": len(rows), "data": rows[page * size:(page + 1) * size],
                      "paging": _paging(len(rows), page, size)})

    # -- control -------------------------------------------------------------
    def control_endpoint(self, request: Request, name: str) -> Response:
        s = self.state
        body = request.get_json(silent=True) or {}
        if name == "stats":
            with s.lock:
                return _json({"authenticate": s.auth_count, "requests": dict(s.counts), "tokens": len(s.tokens),
                              "portfolios": {str(pid): len(p["companies"]) for pid, p in s.portfolios.items()},
                              "imports": {str(i): v for i, v in s.imports.items()}})
        if request.method != "POST":
            return _json({"message": "POST only"}, 405)
        if name == "reset":
            with s.lock:
                s.tokens.clear()
                s.counts.clear()
                s.auth_count = 0
                s.fault = None
            return _json({"ok": True})
        if name == "fault":
            mode = body.get("mode")
            with s.lock:
                if mode == "expire-tokens":
                    s.tokens.clear()
                    s.fault = None
                elif mode in (None, "", "none"):
                    s.fault = None
                elif mode in ("down", "500", "429", "slow"):
                    s.fault = {"mode": mode, "count": body.get("count"), "seconds": body.get("seconds", 5)}
                else:
                    return _json({"message": "unknown mode"}, 400)
            return _json({"ok": True, "mode": mode})
        if name in ("rating", "ratings"):
            changes = body.get("changes") if name == "ratings" else [body]
            if not isinstance(changes, list):
                return _json({"message": "changes must be a list"}, 400)
            out = []
            for spec in changes:
                try:
                    out.append(s.change_rating(spec))
                except KeyError:
                    return _json({"message": "Company not known to the stand-in", "spec": spec}, 404)
                except (ValueError, TypeError) as exc:
                    return _json({"message": str(exc)}, 400)
            return _json(out[0] if name == "rating" else {"changed": len(out)})
        return _json({"message": "Not found"}, 404)


def _date_arg(value: str) -> str:
    """Creditsafe's date-time query parameters, compared as the events' format."""
    value = value.replace(" ", "T").rstrip("Z")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S")


def _b64(obj) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


class _Handler(BaseHTTPRequestHandler):
    """A WSGI host speaking HTTP/1.1 with keep-alive: the whole body is read by
    its Content-Length before the app runs, the answer carries its length, and
    the connection stays open for the client's next call (one thread per
    connection, as many as the client pools)."""

    protocol_version = "HTTP/1.1"
    server_version = "creditsafe-standin"
    app = None  # set per server

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _run(self):
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        environ = {
            "REQUEST_METHOD": self.command, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query,
            "SERVER_NAME": self.server.server_address[0], "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version, "REMOTE_ADDR": self.client_address[0],
            "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(length),
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        }
        for key, value in self.headers.items():
            name = "HTTP_" + key.upper().replace("-", "_")
            if name not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[name] = value
        started = []

        def start_response(status, headers, exc_info=None):
            started[:] = [status, headers]
        chunks = self.app(environ, start_response)
        try:
            payload = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status, headers = started
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for key, value in headers:
            if key.lower() not in ("content-length", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _run

    def log_message(self, *args):  # quiet: thousands of calls in the benchmarks
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def make_server(host: str, port: int, app) -> _Server:
    handler = type("Handler", (_Handler,), {"app": app})
    return _Server((host, port), handler)


def serve(host: str, port: int, users: dict | None = None, token_ttl: float = 3600, control: bool = True,
          import_delay: float = 0.2):
    """A started server (``.shutdown()`` to stop; ``.state`` holds the data) on a thread."""
    state = State(users or {DEV_USERNAME: DEV_PASSWORD}, token_ttl, import_delay=import_delay)
    server = make_server(host, port, Standin(state, control))
    server.state = state
    threading.Thread(target=server.serve_forever, daemon=True, name="creditsafe-standin").start()
    return server


def main(argv=None) -> None:
    import os

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("CREDITSAFE_STANDIN_PORT", "8791")))
    parser.add_argument("--username", default=os.environ.get("CREDITSAFE_USERNAME") or DEV_USERNAME)
    parser.add_argument("--password", default=os.environ.get("CREDITSAFE_PASSWORD") or DEV_PASSWORD)
    parser.add_argument("--token-ttl", type=float, default=3600)
    parser.add_argument("--import-delay", type=float, default=0.2,
                        help="seconds before an accepted import file is processed (Creditsafe queues them)")
    parser.add_argument("--no-control", action="store_true", help="no /_control endpoints")
    args = parser.parse_args(argv)
    state = State({args.username: args.password}, args.token_ttl, import_delay=args.import_delay)
    print(f"Creditsafe stand-in on http://{args.host}:{args.port}/v1", flush=True)
    make_server(args.host, args.port, Standin(state, not args.no_control)).serve_forever()


if __name__ == "__main__":
    main()
