"""The local index: bulk load, upsert, search, get and sub-units.

Plain logic over a SQLAlchemy engine (no nameko). Hot paths use the DBAPI
connection directly: bulk loads stream batches through ``executemany`` and
keep memory bounded; search runs at most three indexed queries per country.

SQLite: one FTS5 table per country (external content, prefix indexes of 2
and 3 characters). PostgreSQL: ``registry_words`` with a C-collation btree,
so a word prefix is a range scan.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Iterable, Iterator

from sqlalchemy.engine import Engine

from service_common.db import is_sqlite

from .records import city_of
from .text import name_key, prefix_end, search_words

_COLUMNS = ("country", "org_number", "kind", "parent", "name", "name_key", "city", "status", "legal_form",
            "detail", "source", "refreshed_at")
_UPSERT = (
    f"INSERT INTO registry_entities ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
    "ON CONFLICT (country, org_number) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[2:])
)
_HIT = "e.id, e.org_number, e.name, e.name_key, e.city, e.status, e.legal_form"
_DEFAULTS = {"kind": "main", "parent": None, "legal_form": None, "legal_form_text": None, "status": "active",
             "industry": [], "employees": None, "employees_range": None, "visiting_address": None,
             "postal_address": None, "website": None, "phone": None, "email": None, "registered_on": None}


def fts_table(country: str) -> str:
    return f"registry_fts_{country.lower()}"


def encode(e: dict) -> str:
    return json.dumps({k: v for k, v in e.items() if v is not None and v != []}, ensure_ascii=False,
                      separators=(",", ":"))


def decode(detail: str) -> dict:
    e = dict(_DEFAULTS)
    e.update(json.loads(detail))
    return e


def row(e: dict, source: str, now: int) -> tuple:
    return (e["country"], e["org_number"], e["kind"], e.get("parent"), (e["name"] or "")[:300],
            name_key(e["name"]), (city_of(e) or "")[:120] or None, e["status"], (e.get("legal_form") or "")[:64] or None,
            encode(e), source, now)


@dataclass
class Hit:
    rank: int  # 0 exact organisation number, 1 name prefix, 2 word match
    key: tuple
    item: dict


def fts_query(ws: list[str]) -> str:
    return " AND ".join(f'"{w}"*' for w in ws)


class Index:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.sqlite = is_sqlite(engine)

    # -- plumbing ------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql if self.sqlite else sql.replace("?", "%s")

    def _raw(self):
        return self.engine.raw_connection()

    # -- writing -------------------------------------------------------
    def load(self, entities: Iterable[dict], source: str = "bulk", batch_size: int = 5000, on_batch=None) -> int:
        """Upsert a stream of entities in batches (one transaction per batch). Returns the count.
        ``on_batch(rows, seconds)`` is called after each batch (the benchmark times them)."""
        conn = self._raw()
        total = 0
        try:
            if self.sqlite:
                cur = conn.cursor()
                cur.execute("PRAGMA synchronous=OFF")
                cur.execute("PRAGMA cache_size=-262144")
                cur.close()
            started = time.perf_counter()
            empty: set[str] = set()
            checked: set[str] = set()
            for batch in _batches(entities, batch_size):
                for country in {e["country"] for e in batch} - checked:
                    checked.add(country)
                    cur = conn.cursor()
                    cur.execute(self._sql("SELECT 1 FROM registry_entities WHERE country = ? LIMIT 1"), (country,))
                    if cur.fetchone() is None:
                        empty.add(country)
                    cur.close()
                self._write(conn, batch, source, empty)
                conn.commit()
                total += len(batch)
                if on_batch is not None:
                    now = time.perf_counter()
                    on_batch(len(batch), now - started)
                    started = now
            if self.sqlite:
                cur = conn.cursor()
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA cache_size=-65536")
                cur.close()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()
        return total

    def upsert(self, entities: list[dict], source: str = "live") -> None:
        if not entities:
            return
        conn = self._raw()
        try:
            self._write(conn, entities, source)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    def _write(self, conn, batch: list[dict], source: str, empty: set | None = None) -> None:
        """Upsert ``batch``; ``empty`` names countries known to have had no rows
        before this load (a first import skips looking for old rows)."""
        now = int(time.time())
        cur = conn.cursor()
        by_country: dict[str, list[str]] = {}
        for e in batch:
            by_country.setdefault(e["country"], []).append(e["org_number"])
        old = {}  # (country, org) -> (id, kind, name_key)
        for country, orgs in by_country.items():
            if empty is not None and country in empty:
                continue
            for chunk in _chunks(orgs, 500):
                cur.execute(self._sql(
                    f"SELECT id, org_number, kind, name_key FROM registry_entities "
                    f"WHERE country = ? AND org_number IN ({', '.join('?' for _ in chunk)})"), [country, *chunk])
                for id_, org, kind, key in cur.fetchall():
                    old[(country, org)] = (id_, kind, key)
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM registry_entities")
        max_id = cur.fetchone()[0]
        cur.executemany(self._sql(_UPSERT), [row(e, source, now) for e in batch])
        # search structures: drop what changed, add what is new or changed
        changed = {}  # id -> (country, org, old kind, old key)
        for e in batch:
            prev = old.get((e["country"], e["org_number"]))
            if prev and (prev[1] != e["kind"] or prev[2] != name_key(e["name"])):
                changed[prev[0]] = (e["country"], e["org_number"], prev[1], prev[2])
        if self.sqlite:
            for id_, (country, org, kind, key) in changed.items():
                if kind == "main":
                    t = fts_table(country)
                    cur.execute(f"INSERT INTO {t}({t}, rowid, name_key) VALUES ('delete', ?, ?)", (id_, key))
            for country in by_country:
                t = fts_table(country)
                cur.execute(f"INSERT INTO {t}(rowid, name_key) SELECT id, name_key "
                            f"FROM registry_entities WHERE id > ? AND country = ? AND kind = 'main'", (max_id, country))
                ids = [i for i, c in changed.items() if c[0] == country]
                for chunk in _chunks(ids, 500):
                    cur.execute(f"INSERT INTO {t}(rowid, name_key) SELECT id, name_key "
                                f"FROM registry_entities WHERE kind = 'main' AND id IN ({', '.join('?' for _ in chunk)})",
                                chunk)
        else:
            if changed:
                cur.execute("DELETE FROM registry_words WHERE entity_id = ANY(%s)", (list(changed),))
            cur.execute("SELECT id, country, org_number, name FROM registry_entities WHERE kind = 'main' "
                        "AND (id > %s OR id = ANY(%s))", (max_id, list(changed)))
            words = [(country, w, id_) for id_, country, org, name in cur.fetchall()
                     for w in search_words(name)]
            if words:
                cur.executemany("INSERT INTO registry_words (country, word, entity_id) VALUES (%s, %s, %s) "
                                "ON CONFLICT DO NOTHING", words)
        cur.close()

    # -- reading -------------------------------------------------------
    def get(self, country: str, org_number: str) -> tuple[dict, str, int] | None:
        """(entity, source, refreshed_at) or None."""
        with self.engine.connect() as conn:
            r = conn.exec_driver_sql(
                self._sql("SELECT detail, source, refreshed_at FROM registry_entities WHERE country = ? AND org_number = ?"),
                (country, org_number)).first()
        if r is None:
            return None
        return decode(r[0]), r[1], r[2]

    def subunits(self, country: str, parent: str, limit: int = 1000) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql(self._sql(
                "SELECT detail FROM registry_entities WHERE country = ? AND parent = ? AND kind = 'sub' "
                "ORDER BY name_key LIMIT ?"), (country, parent, limit)).all()
        return [decode(r[0]) for r in rows]

    def count(self, country: str | None = None, kind: str | None = "main") -> int:
        where, args = [], []
        if country:
            where.append("country = ?")
            args.append(country)
        if kind:
            where.append("kind = ?")
            args.append(kind)
        sql = "SELECT COUNT(*) FROM registry_entities" + (" WHERE " + " AND ".join(where) if where else "")
        with self.engine.connect() as conn:
            return conn.exec_driver_sql(self._sql(sql), tuple(args)).scalar_one()

    def has_any(self, country: str, kind: str = "main") -> bool:
        with self.engine.connect() as conn:
            return conn.exec_driver_sql(self._sql(
                "SELECT 1 FROM registry_entities WHERE country = ? AND kind = ? LIMIT 1"), (country, kind)).first() is not None

    def search(self, country: str, ws: list[str], org_number: str | None, limit: int,
               number_prefix: str | None = None) -> list[Hit]:
        """Ranked candidates in one country: the exact organisation number, then
        names (or numbers) starting with the query, then names whose words start
        with the query's words."""
        hits: dict[int, Hit] = {}
        key = " ".join(ws)
        with self.engine.connect() as conn:
            run = conn.exec_driver_sql
            if org_number:
                for r in run(self._sql(f"SELECT {_HIT} FROM registry_entities e WHERE e.country = ? "
                                       f"AND e.org_number = ? AND e.kind = 'main'"), (country, org_number)):
                    hits[r[0]] = Hit(0, (0, r[3]), _item(country, r))
            if number_prefix and not hits:
                for r in run(self._sql(f"SELECT {_HIT} FROM registry_entities e WHERE e.country = ? AND e.org_number >= ? "
                                       f"AND e.org_number < ? AND e.kind = 'main' ORDER BY e.org_number LIMIT ?"),
                             (country, number_prefix, prefix_end(number_prefix), limit)):
                    hits.setdefault(r[0], Hit(1, (0, r[1]), _item(country, r)))
            if key:
                for r in run(self._sql(f"SELECT {_HIT} FROM registry_entities e WHERE e.country = ? AND e.kind = 'main' "
                                       f"AND e.name_key >= ? AND e.name_key < ? ORDER BY e.name_key LIMIT ?"),
                             (country, key, prefix_end(key), limit)):
                    hits.setdefault(r[0], Hit(1, (len(r[3]), r[3]), _item(country, r)))
            usable = [w for w in ws if len(w) >= 2]
            if usable and len(hits) < limit * 2:
                for r in self._word_matches(run, country, usable, limit * 4):
                    if r[0] not in hits:
                        first = next((i for i, w in enumerate(r[3].split()) if w.startswith(usable[0])), 99)
                        hits[r[0]] = Hit(2, (first, len(r[3]), r[3]), _item(country, r))
        return sorted(hits.values(), key=lambda h: (h.rank, h.key))[:limit]

    def _word_matches(self, run, country: str, ws: list[str], limit: int) -> Iterator[tuple]:
        if self.sqlite:
            t = fts_table(country)
            yield from run(f"SELECT {_HIT} FROM {t} f JOIN registry_entities e ON e.id = f.rowid "
                           f"WHERE {t} MATCH ? LIMIT ?", (fts_query(ws), limit))
            return
        driver = max(ws, key=len)
        others = [w for w in ws if w is not driver]
        sql = (f"SELECT DISTINCT {_HIT} FROM registry_words w JOIN registry_entities e ON e.id = w.entity_id "
               f"WHERE w.country = %s AND w.word >= %s AND w.word < %s")
        args = [country, driver, prefix_end(driver)]
        for w in others:
            sql += (" AND EXISTS (SELECT 1 FROM registry_words w2 WHERE w2.entity_id = w.entity_id "
                    "AND w2.country = %s AND w2.word >= %s AND w2.word < %s)")
            args += [country, w, prefix_end(w)]
        yield from run(sql + " LIMIT %s", (*args, limit))

    # -- feed cursors --------------------------------------------------
    def cursor(self, feed: str) -> str | None:
        with self.engine.connect() as conn:
            r = conn.exec_driver_sql(self._sql("SELECT cursor FROM registry_sync WHERE feed = ?"), (feed,)).first()
        return r[0] if r else None

    def set_cursor(self, feed: str, value: str) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql(self._sql(
                "INSERT INTO registry_sync (feed, cursor, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (feed) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at"),
                (feed, value, int(time.time())))


def _item(country: str, r) -> dict:
    return {"country": country, "org_number": r[1], "name": r[2], "city": r[4], "status": r[5], "legal_form": r[6]}


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
