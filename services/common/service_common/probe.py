"""Liveness/readiness probe for a service (it has no HTTP port):

    python -m service_common.probe crm

Calls the service's ``health`` RPC over AMQP_URI; exits 0 when it answers
"ok" within the timeout (default 2 s), 1 otherwise.
"""
from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service")
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args(argv)
    from nameko.standalone.rpc import ClusterRpcProxy

    config = {"AMQP_URI": os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")}
    try:
        with ClusterRpcProxy(config, timeout=args.timeout) as rpc:
            reply = getattr(rpc, args.service).health()
    except Exception as exc:  # noqa: BLE001 - any failure is "not healthy"
        print(f"{args.service}: unhealthy ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 1
    ok = isinstance(reply, dict) and reply.get("status") == "ok"
    print(f"{args.service}: {'ok' if ok else reply}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
