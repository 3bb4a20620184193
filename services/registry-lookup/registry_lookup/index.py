"""The local index: bulk load, upsert, search, get and sub-units.

Plain logic over a SQLAlchemy engine (no nameko). Hot paths use the DBAPI
connection directly: bulk loads stream batches of ready rows (``bulk.row``)
through ``executemany`` and keep memory bounded; a fresh load into an empty
SQLite index builds its secondary btrees and FTS tables once at the end; search
runs at most four indexed queries per country.

SQLite: one FTS5 table per country (external content, prefix indexes of 2
to 8 characters). PostgreSQL: ``registry_words`` with a C-collation btree,
so a word prefix is a range scan. Both: a partial btree over companies'
numbers for number prefixes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable, Iterator

from sqlalchemy.engine import Engine

from service_common.db import is_sqlite

from .bulk import COLUMNS as _COLUMNS, decode, encode, row, row_batches  # noqa: F401 - encode/row are API
from .records import display_number, merge_missing
from .text import prefix_end, search_words

_UPSERT = (
    f"INSERT INTO registry_entities ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
    "ON CONFLICT (country, org_number) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[2:])
)
_HIT = ("e.id, e.org_number, e.name, e.name_key, e.city, e.status, e.legal_form, e.org_number_display, e.region, "
        "e.status_text")
COUNTRIES = ("NO", "SE", "DK", "GB")
# secondary btrees a fresh bulk load builds at the end instead of row by row (SQLite)
_SECONDARY = {
    "ix_registry_entities_name_key": "registry_entities (country, kind, name_key)",
    "ix_registry_entities_parent": "registry_entities (country, parent)",
    "ix_registry_entities_main_number": "registry_entities (country, org_number) WHERE kind = 'main'",
    "ix_registry_entities_region": "registry_entities (country, region)",
}
FTS_PREFIX = 8  # the longest FTS prefix index (migration 0002): longer words match through a filter
_LONG_SCAN = 1000  # candidates of a long word's 8-character prefix checked before asking FTS5 for the word
_PENDING = "index:rebuild"  # registry_sync marker while a fresh load has its search structures pending


def fts_table(country: str) -> str:
    return f"registry_fts_{country.lower()}"


@dataclass
class Hit:
    rank: int  # 0 exact organisation number, 1 name prefix, 2 word match
    key: tuple
    item: dict


def fts_query(ws: list[str], full: bool = False) -> str:
    """Words up to ``FTS_PREFIX`` characters are prefix queries on a prefix index; a longer
    word asks for its first ``FTS_PREFIX`` characters (see ``long_words``) unless ``full``."""
    return " AND ".join(f'"{w if full else w[:FTS_PREFIX]}"*' for w in ws)


def long_words(ws: list[str]) -> list[str]:
    """The words that the FTS query only matched by their first ``FTS_PREFIX`` characters:
    checked against ``name_key`` (FTS5 would otherwise merge every matching word's doclist)."""
    return [w for w in ws if len(w) > FTS_PREFIX]


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
        return self.load_rows(row_batches(entities, source, batch_size), on_batch=on_batch)

    def load_rows(self, batches: Iterable[list[tuple]], on_batch=None, deferred: bool = False) -> int:
        """Upsert batches of ready rows (``bulk.row`` tuples), one transaction per batch.
        ``deferred``: inside a fresh load (``begin_fresh_load``), which builds the
        search structures at the end, so nothing is looked up or indexed per batch."""
        conn = self._raw()
        total = 0
        try:
            self._bulk_pragmas(conn, True, fresh=deferred)
            started = time.perf_counter()
            empty: set[str] = set()
            checked: set[str] = set()
            for batch in batches:
                if not deferred:
                    for country in {r[0] for r in batch} - checked:
                        checked.add(country)
                        cur = conn.cursor()
                        cur.execute(self._sql("SELECT 1 FROM registry_entities WHERE country = ? LIMIT 1"), (country,))
                        if cur.fetchone() is None:
                            empty.add(country)
                        cur.close()
                self._write(conn, batch, empty, search=not deferred)
                conn.commit()
                total += len(batch)
                if on_batch is not None:
                    now = time.perf_counter()
                    on_batch(len(batch), now - started)
                    started = now
        except BaseException:
            conn.rollback()
            raise
        finally:
            close = getattr(batches, "close", None)
            if close is not None:  # a generator reading a parse worker: stop the worker now, not at GC
                close()
            try:
                self._bulk_pragmas(conn, False, fresh=deferred)
            finally:
                conn.close()
        return total

    def _bulk_pragmas(self, conn, on: bool, fresh: bool = False) -> None:
        """The import connection only: no fsync, a bigger page cache; in a fresh load also a
        rollback journal in memory instead of the WAL (each page is written once, not twice).
        That needs the database to itself: when another connection has it open, the WAL stays.
        A crash in the middle of a fresh load can then leave a broken file: delete it and load
        again. Everything goes back to the defaults afterwards."""
        if not self.sqlite:
            return
        cur = conn.cursor()
        try:
            cur.execute(f"PRAGMA synchronous={'OFF' if on else 'NORMAL'}")
            cur.execute(f"PRAGMA cache_size={-262144 if on else -65536}")
            # mapped pages would count as this process's memory on top of the page cache
            cur.execute(f"PRAGMA mmap_size={0 if on else 268435456}")
            if fresh:
                cur.execute("PRAGMA busy_timeout=0")  # never wait for other connections here
                try:
                    cur.execute(f"PRAGMA journal_mode={'MEMORY' if on else 'WAL'}")
                except Exception:  # noqa: BLE001 - "database is locked": someone else has it open, keep the WAL
                    pass
                finally:
                    cur.execute("PRAGMA busy_timeout=30000")
        finally:
            cur.close()

    def begin_fresh_load(self) -> bool:
        """Before loading into an empty index (SQLite): drop the secondary btrees and leave
        the FTS tables to ``finish_fresh_load``, which builds them once, sorted, instead of
        row by row. Returns False (nothing changed) when the index holds anything."""
        if not self.sqlite:
            return False
        self.recover()
        conn = self._raw()
        try:
            cur = conn.cursor()
            cur.execute("SELECT 1 FROM registry_entities LIMIT 1")
            if cur.fetchone() is not None:
                return False
            self._mark(cur, True)
            for name in _SECONDARY:
                cur.execute(f"DROP INDEX IF EXISTS {name}")
            conn.commit()
            return True
        finally:
            conn.close()

    def finish_fresh_load(self) -> None:
        """Build what a fresh load left out: the secondary btrees and each country's FTS table."""
        conn = self._raw()
        try:
            self._bulk_pragmas(conn, True, fresh=True)
            cur = conn.cursor()
            cur.execute("PRAGMA temp_store=FILE")  # the index sorter spills to disk: memory stays bounded
            for name, target in _SECONDARY.items():
                cur.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
            conn.commit()
            for country in COUNTRIES:
                t = fts_table(country)
                cur.execute(f"INSERT INTO {t}({t}) VALUES ('delete-all')")
                cur.execute(f"INSERT INTO {t}(rowid, name_key) SELECT id, name_key FROM registry_entities "
                            f"WHERE country = ? AND kind = 'main'", (country,))
                conn.commit()
            self._mark(cur, False)
            conn.commit()
            cur.execute("PRAGMA optimize")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()
        except BaseException:
            conn.rollback()
            raise
        finally:
            try:
                self._bulk_pragmas(conn, False, fresh=True)
            finally:
                conn.close()

    def recover(self) -> None:
        """Finish a fresh load that stopped half-way (its marker is still there)."""
        if self.sqlite and self.cursor(_PENDING) is not None:
            self.finish_fresh_load()

    def _mark(self, cur, pending: bool) -> None:
        if pending:
            cur.execute("INSERT INTO registry_sync (feed, cursor, updated_at) VALUES (?, 'pending', ?) "
                        "ON CONFLICT (feed) DO UPDATE SET cursor = excluded.cursor", (_PENDING, int(time.time())))
        else:
            cur.execute("DELETE FROM registry_sync WHERE feed = ?", (_PENDING,))

    def upsert(self, entities: list[dict], source: str = "live") -> None:
        """Store what a registry answered. A partial answer (``missing``) keeps the stored values
        of the fields it lacks (``records.merge_missing``); one with no name and nothing stored
        is not stored at all (it would be a nameless row in the search)."""
        if not entities:
            return
        completed = []
        for e in entities:
            if e.get("missing"):
                known = self.get(e["country"], e["org_number"])
                e = merge_missing(e, known[0] if known else None)
                if not e.get("name"):
                    continue
            completed.append(e)
        entities = completed
        if not entities:
            return
        conn = self._raw()
        try:
            now = int(time.time())
            self._write(conn, [row(e, source, now) for e in entities])
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    def _write(self, conn, rows: list[tuple], empty: set | None = None, search: bool = True) -> None:
        """Upsert ``rows`` (``bulk.COLUMNS`` order); ``empty`` names countries known to have
        had no rows before this load (a first import skips looking for old rows).
        ``search=False`` leaves the search structures alone (a fresh load builds them at the end)."""
        cur = conn.cursor()
        if not search:
            cur.executemany(self._sql(_UPSERT), rows)
            cur.close()
            return
        by_country: dict[str, list[str]] = {}
        for r in rows:
            by_country.setdefault(r[0], []).append(r[1])
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
        cur.executemany(self._sql(_UPSERT), rows)
        # search structures: drop what changed, add what is new or changed
        changed = {}  # id -> (country, org, old kind, old key)
        if old:
            for r in rows:
                prev = old.get((r[0], r[1]))
                if prev and (prev[1] != r[2] or prev[2] != r[5]):
                    changed[prev[0]] = (r[0], r[1], prev[1], prev[2])
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
            longer = long_words(ws)
            if longer:
                # the first _LONG_SCAN candidates of the 8-character prefixes (incremental), checked in full
                check = " AND ".join("(' ' || e.name_key) LIKE ?" for _ in longer)
                rows = run(f"SELECT {_HIT} FROM (SELECT rowid AS id FROM {t} WHERE {t} MATCH ? LIMIT ?) f "
                           f"JOIN registry_entities e ON e.id = f.id WHERE {check} LIMIT ?",
                           (fts_query(ws), _LONG_SCAN, *(f"% {w}%" for w in longer), limit)).all()
                if len(rows) >= limit:
                    yield from rows
                    return
                # few of them match, so the whole words are rare: FTS5's full prefix merge is cheap
                yield from run(f"SELECT {_HIT} FROM {t} f JOIN registry_entities e ON e.id = f.rowid "
                               f"WHERE {t} MATCH ? LIMIT ?", (fts_query(ws, full=True), limit))
                return
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
    return {"country": country, "org_number": r[1], "org_number_display": r[7] or display_number(country, r[1]),
            "name": r[2], "city": r[4], "region": r[8], "status": r[5], "status_text": r[9], "legal_form": r[6]}


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
