from service_common.migrate import run_env

from mailer.models import Base

run_env(Base.metadata)
