"""Run a simulator in the foreground: ``python -m simulators ib --seed FILE [--port 0] [--host 127.0.0.1]``.

The first line on stdout is the simulator's base URL (flushed), so a parent process can read it.
Stop with Ctrl-C or SIGTERM.

``--tls-dir DIR`` generates a throwaway PKI into DIR and serves HTTPS with mutual TLS and, by
default, Digikoppeling 2W-be-S (signed requests required, signed replies). A client needs from DIR:
``ca.pem`` (ca_bundle_path), ``client.pem`` + ``client-key.pem`` (TLS client_cert_path/_key_path),
``client-sign.pem`` + ``client-sign-key.pem`` (signing_cert_path/signing_key_path) and
``server-sign.pem`` (trusted_sender_cert_path). ``--profile 2W-be`` serves TLS without signing.
"""

from __future__ import annotations

import argparse
import sys

from simulators.harness import mtls_note, serve_until_stopped


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="partner", required=True)
    ib = sub.add_parser("ib", help="Inlichtingenbureau signal service (SOAP 1.1)")
    ib.add_argument("--seed", required=True, help="JSON list, scenario JSON (with 'signalen') or JSONL of signal records")
    ib.add_argument("--host", default="127.0.0.1")
    ib.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ib.add_argument("--random-seed", type=int, default=None, help="seed for probabilistic faults")
    ib.add_argument("--tls-dir", default=None,
                    help="serve HTTPS with mutual TLS (and 2W-be-S signing), generating a throwaway test PKI here")
    ib.add_argument("--profile", choices=("2W-be", "2W-be-S"), default="2W-be-S",
                    help="Digikoppeling profile with --tls-dir (default 2W-be-S: signed messages)")
    from simulators.zgw import add_cli_arguments as add_zgw_arguments  # ZGW Zaken API (see simulators/zgw.py)

    add_zgw_arguments(sub.add_parser("zgw", help="ZGW Zaken API (REST + JWT), checked against the official OpenAPI"))
    from simulators.suwinet import add_cli_arguments as add_suwinet_arguments  # see simulators/suwinet.py

    add_suwinet_arguments(sub.add_parser("suwinet", help="Suwinet GSDDossierReintegratie + "
                                         "UWVDossierWerknemersverzekeringenGSD (SOAP 1.1, scenario 'lks'/'suwinet_wv')"))
    from simulators.arbodienst import add_cli_arguments as add_arbodienst_arguments  # see simulators/arbodienst.py

    add_arbodienst_arguments(sub.add_parser("arbodienst", help="arbodienst booking API (REST), checked against "
                                            "schemas/arbodienst/openapi.yaml"))
    from simulators.providers import add_cli_arguments as add_providers_arguments  # see simulators/providers.py

    add_providers_arguments(sub.add_parser("providers", help="provider invoice feed (REST), checked against "
                                           "schemas/providers/openapi.yaml"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.partner == "zgw":
        from simulators.zgw import run_cli as run_zgw

        return run_zgw(args)
    if args.partner == "providers":
        from simulators.providers import run_cli as run_providers

        return run_providers(args)
    if args.partner == "arbodienst":
        from simulators.arbodienst import run_cli as run_arbodienst

        return run_arbodienst(args)
    if args.partner == "suwinet":
        from simulators.suwinet import run_cli as run_suwinet

        return run_suwinet(args)
    from simulators.ib import IbSimulator, SimSecurity, load_signal_records

    records = load_signal_records(args.seed)
    tls = security = None
    if args.tls_dir:
        from simulators.certs import generate_test_pki, server_ssl_context

        pki = generate_test_pki(args.tls_dir)
        tls = server_ssl_context(pki)
        if args.profile == "2W-be-S":
            security = SimSecurity.from_pki(pki)
    app = IbSimulator(records, security=security)
    mtls = (f"; {mtls_note(args.tls_dir, signing=security is not None)}, profile "
            f"{args.profile if security else '2W-be'}") if args.tls_dir else ""
    return serve_until_stopped(app, host=args.host, port=args.port, tls=tls, seed=args.random_seed, banner=lambda _: (
        f"IB endpoint {app.endpoint} (WSDL: {app.wsdl_url}){mtls}; Ctrl-C to stop"))


if __name__ == "__main__":
    sys.exit(main())
