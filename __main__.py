"""`python -m coopledger`: the command line."""

from .cli import main

main()
