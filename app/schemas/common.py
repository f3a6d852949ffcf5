"""Types shared by several endpoints."""

import re
from typing import Annotated

from pydantic import StringConstraints

# User ids are opaque strings (UUIDs or ObjectId hex in Contentry's data). The pattern keeps them usable in
# cache keys and S3 prefixes without escaping.
USER_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
USER_ID_RE = re.compile(USER_ID_PATTERN)
UserId = Annotated[str, StringConstraints(pattern=USER_ID_PATTERN)]
