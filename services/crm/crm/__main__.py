"""Operator commands of the crm service.

    python -m crm create-tenant --name "Fjord Bemanning AS" --admin-email kari@fjord.example \\
        [--admin-name "Kari Nordmann"] [--slug fjord] [--currency NOK] [--password ...]

creates a tenant and its first admin in the crm database (``CRM_DATABASE_URL``, else the
SQLite file in ``CRM_DATA_DIR``; migrated first) and prints the admin's one-time password.
The admin chooses their own password at first login. Without ``--password`` a random one
is made (the safer choice: it is shown once, here).
"""
from __future__ import annotations

import argparse
import sys

from sqlalchemy.orm import Session


def create_tenant(args) -> int:
    from service_common.db import database_url, make_engine
    from service_common.errors import ValidationError
    from service_common.migrate import upgrade

    from . import auth
    from .service import DATABASE, MIGRATIONS

    url = args.database_url or database_url(*DATABASE)
    upgrade(MIGRATIONS, url)
    engine = make_engine(url, pool_size=1)
    try:
        with Session(engine) as session:
            try:
                tenant, admin, password = auth.create_tenant(
                    session, args.name, args.admin_email, admin_name=args.admin_name, admin_password=args.password,
                    slug=args.slug, currency=args.currency)
            except ValidationError as exc:
                print(f"error: {exc.field}: {exc.message}", file=sys.stderr)
                return 2
            except Exception as exc:  # noqa: BLE001 - e.g. the e-mail exists in this tenant (cannot: new tenant)
                print(f"error: {exc}", file=sys.stderr)
                return 1
            print(f"Created tenant {tenant.name!r} (id {tenant.id}, slug {tenant.slug}) and its admin {admin.email}.")
            print(f"One-time password: {password}")
            print("The admin chooses a new password at first login.")
    finally:
        engine.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-tenant", help="a tenant and its first admin")
    create.add_argument("--name", required=True, help="the agency's name")
    create.add_argument("--admin-email", required=True)
    create.add_argument("--admin-name", default="Administrator")
    create.add_argument("--slug", help="short name picked at login when an e-mail is in several tenants "
                                       "(default: from the name)")
    create.add_argument("--currency", default="NOK")
    create.add_argument("--password", help="the admin's first password (default: a random one, printed)")
    create.add_argument("--database-url", help="default: CRM_DATABASE_URL, else SQLite in CRM_DATA_DIR")
    args = parser.parse_args(argv)
    if args.command == "create-tenant":
        return create_tenant(args)
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
