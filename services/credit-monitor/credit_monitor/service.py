"""The credit_monitor nameko service: RPC entrypoints, each a few lines."""
from nameko.rpc import rpc

from service_common.db import Database, ping
from service_common.errors import EXPECTED

DATABASE = ("credit_monitor", "CREDIT")
MIGRATIONS = "credit_monitor"


class CreditMonitorService:
    name = "credit_monitor"

    db = Database(*DATABASE)

    @rpc(expected_exceptions=EXPECTED)
    def health(self):
        """-> {"status": "ok", "service": "credit_monitor", "db_ms": float}"""
        return {"status": "ok", "service": self.name, "db_ms": round(ping(self.db.engine), 3)}
