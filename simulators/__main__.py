"""Run a simulator in the foreground: ``python -m simulators ib --seed FILE [--port 0] [--host 127.0.0.1]``.

The first line on stdout is the simulator's base URL (flushed), so a parent process can read it.
Stop with Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from simulators.harness import SimServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="partner", required=True)
    ib = sub.add_parser("ib", help="Inlichtingenbureau signal service (SOAP 1.1)")
    ib.add_argument("--seed", required=True, help="JSON list, scenario JSON (with 'signalen') or JSONL of signal records")
    ib.add_argument("--host", default="127.0.0.1")
    ib.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ib.add_argument("--random-seed", type=int, default=None, help="seed for probabilistic faults")
    ib.add_argument("--tls-dir", default=None,
                    help="serve HTTPS with mutual TLS, generating a throwaway test PKI into this directory")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from simulators.ib import IbSimulator, load_signal_records

    app = IbSimulator(load_signal_records(args.seed))
    tls = None
    if args.tls_dir:
        from simulators.certs import generate_test_pki, server_ssl_context

        tls = server_ssl_context(generate_test_pki(args.tls_dir))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with SimServer(app, host=args.host, port=args.port, tls=tls, seed=args.random_seed) as server:
        print(server.url, flush=True)
        print(f"IB endpoint {app.endpoint} (WSDL: {app.wsdl_url}); Ctrl-C to stop", file=sys.stderr, flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
