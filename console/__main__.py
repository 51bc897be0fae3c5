"""`python -m console [--host H] [--port P]`: serves the staff console with waitress."""

import argparse
import logging

from waitress import serve

from console.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8070)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    # waitress logs no request lines of its own; its warnings name no citizen data.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    serve(create_app(), host=args.host, port=args.port, threads=args.threads, ident="panchayat-console")


if __name__ == "__main__":
    main()
