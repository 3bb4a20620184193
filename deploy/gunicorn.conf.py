"""gunicorn settings for the gateway (threads: the RPC client keeps one
connection per thread). Everything can be overridden from the environment."""
import os
from pathlib import Path

_source = Path(__file__).resolve().parent.parent / "gateway"
# From a checkout, run inside gateway/ so the package (not the folder) is imported; in an image it is installed.
chdir = str(_source) if (_source / "gateway" / "__init__.py").exists() else os.getcwd()
bind = os.environ.get("GATEWAY_BIND", f"127.0.0.1:{os.environ.get('GATEWAY_PORT', '8000')}")
worker_class = "gthread"
workers = int(os.environ.get("GATEWAY_WORKERS", "2"))
threads = int(os.environ.get("GATEWAY_THREADS", "8"))
timeout = 30
graceful_timeout = 10
keepalive = 5
accesslog = os.environ.get("GATEWAY_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# The app (and its RPC connections) is created in each worker after fork.
preload_app = False
