import sys

from confide_client.cli import main

sys.exit(main())
