from service_common.migrate import run_env

from registry_lookup.models import Base

run_env(Base.metadata)
