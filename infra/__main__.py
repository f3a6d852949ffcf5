"""Entry point of `pulumi up` / `pulumi preview` (Pulumi.yaml: `main: infra/`).

The Python language host runs this folder with `runpy.run_path`, so `infra/` is `sys.path[0]`, the repository
root is not on the path, and the working directory may be `infra/`. Put the root on the path (for a checkout
where the project was not pip-installed) and take `infra/` off it, so that `infra/config` can never shadow a
top-level module named `config`.
"""

import sys
from pathlib import Path

_INFRA = Path(__file__).resolve().parent
_ROOT = _INFRA.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _INFRA]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from infra.program import main  # noqa: E402  (the path must be fixed first)

main()
