import sys

from biomedgpt_tools.cli import main

if __name__ == "__main__":  # vLLM starts its workers with spawn, which imports the main module
    sys.exit(main())
