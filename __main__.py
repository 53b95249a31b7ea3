"""`python -m coopledger`: the command line (through a running daemon, or here)."""

from .launch import main

main()
