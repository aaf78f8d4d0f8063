import sys

from biomedgpt_tools.cli import main

sys.exit(main())
