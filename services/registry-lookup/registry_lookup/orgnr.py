"""One implementation, shared with the crm: this name is an alias of service_common.orgnr."""
import sys

from service_common import orgnr as _shared

sys.modules[__name__] = _shared
