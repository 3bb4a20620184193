from service_common.migrate import run_env

from crm.models import Base

run_env(Base.metadata)
