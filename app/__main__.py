"""``python -m app`` is the same command as the installed ``azure-openai-gateway`` script."""

import sys

from app.cli.commands import main

sys.exit(main())
