#!/usr/bin/env python
"""Django's command-line utility for administrative tasks (same as the `confide` command)."""

from portal.cli import main

if __name__ == "__main__":
    main()
