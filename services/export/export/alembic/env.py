from service_common.migrate import run_env

from export.models import Base

run_env(Base.metadata)
