"""One implementation, shared with the crm: this name is an alias of service_common.text."""
import sys

from service_common import text as _shared

sys.modules[__name__] = _shared
