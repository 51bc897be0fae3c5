import sys

from panchayat.cli import main

sys.exit(main())
