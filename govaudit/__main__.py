import os
import sys

# `python -m govaudit` puts the working directory first on sys.path; an auditor's folder holding a
# `reports/` or `checks/` directory must not shadow the packages of the same name.
if sys.path and sys.path[0] in ("", os.getcwd()):
    sys.path.pop(0)

from govaudit.cli import main  # noqa: E402

sys.exit(main())
