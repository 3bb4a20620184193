"""The export nameko service: RPC entrypoints, each a few lines."""
from nameko.rpc import rpc

from service_common.db import Database, ping
from service_common.errors import EXPECTED

DATABASE = ("export", "EXPORT")
MIGRATIONS = "export"


class ExportService:
    name = "export"

    db = Database(*DATABASE)

    @rpc(expected_exceptions=EXPECTED)
    def health(self):
        """-> {"status": "ok", "service": "export", "db_ms": float}"""
        return {"status": "ok", "service": self.name, "db_ms": round(ping(self.db.engine), 3)}
