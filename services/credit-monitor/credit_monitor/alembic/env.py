from service_common.migrate import run_env

from credit_monitor.models import Base

run_env(Base.metadata)
