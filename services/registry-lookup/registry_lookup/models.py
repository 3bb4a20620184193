"""Tables owned by the registry_lookup service (its own database): the local
index of every registry's companies and sub-units.

Search structures differ per database (created by the migration):
SQLite has one FTS5 table per country (``registry_fts_no`` ...; external
content over ``registry_entities.name_key`` and ``org_number``); PostgreSQL
uses ``registry_words`` (one row per folded word, C-collation btree, so a
prefix is a range scan). ``name_key`` (folded name) has a btree for
name-prefix search on both.
"""
from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

COUNTRIES = ("NO", "SE", "DK", "GB")


class Base(DeclarativeBase):
    pass


class RegistryEntity(Base):
    """One company (``kind='main'``) or sub-unit (``kind='sub'``) known to a registry."""

    __tablename__ = "registry_entities"
    __table_args__ = (
        UniqueConstraint("country", "org_number", name="uq_registry_entities_country_org"),
        Index("ix_registry_entities_name_key", "country", "kind", "name_key"),
        Index("ix_registry_entities_parent", "country", "parent"),
        Index("ix_registry_entities_region", "country", "region"),
        # number prefixes over companies only (sub-unit numbers would be scanned first otherwise)
        Index("ix_registry_entities_main_number", "country", "org_number",
              sqlite_where=text("kind = 'main'"), postgresql_where=text("kind = 'main'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    org_number: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(4), default="main")
    parent: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(String(200).with_variant(String(200, collation="C"), "postgresql"))
    city: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default="unknown")  # records.STATUSES
    legal_form: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)  # the entity as compact JSON (see records)
    source: Mapped[str] = mapped_column(String(8), default="bulk")  # bulk | live | feed
    refreshed_at: Mapped[int] = mapped_column(BigInteger)  # unix seconds
    # migration 0003: copies of detail fields a CRM filters and shows
    org_number_display: Mapped[str | None] = mapped_column(String(40))  # NO "976 030 788", SE "556016-0680"
    region: Mapped[str | None] = mapped_column(String(80))  # fylke, region, UK county/region
    municipality: Mapped[str | None] = mapped_column(String(80))  # kommune / kommun
    status_text: Mapped[str | None] = mapped_column(String(200))  # the registry's own words
    legal_form_text: Mapped[str | None] = mapped_column(String(200))  # the registry's own description
    marketing_protection: Mapped[bool | None] = mapped_column(Boolean)  # reklamebeskyttet / reklamspärr


class RegistryWord(Base):
    """PostgreSQL's search structure: the folded words of each company's name and its number."""

    __tablename__ = "registry_words"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    word: Mapped[str] = mapped_column(String(64).with_variant(String(64, collation="C"), "postgresql"),
                                      primary_key=True)
    entity_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class RegistrySync(Base):
    """Where each incremental feed stopped (e.g. Brønnøysund's last ``oppdateringsid``)."""

    __tablename__ = "registry_sync"

    feed: Mapped[str] = mapped_column(String(40), primary_key=True)
    cursor: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[int] = mapped_column(BigInteger)
