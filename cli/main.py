"""The ``banwave`` command: one entry point, one module per subcommand group.

Each module in ``COMMANDS`` exposes ``register(subparsers)``, which adds its
subcommands and sets ``func(args, env) -> int`` on them. This entry point is
the only place that configures logging handlers.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

import config

# Subcommand modules, in the order `banwave --help` lists them.
COMMANDS = ["cli.es", "cli.crawl", "cli.worker", "cli.index", "cli.schedule", "cli.demo", "cli.search", "cli.report", "cli.waves", "cli.kibana"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="banwave",
        description="Monitor news sites and forums for marketplace store-closure waves.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMANDS:
        importlib.import_module(module_name).register(subparsers)
    return parser


def configure_logging(level: str) -> None:
    """Log to stderr; used by every entry point (CLI, scheduler, crawl subprocesses)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if level != "DEBUG":
        # The transport logs every retried connection failure with a full
        # traceback; banwave reports those failures itself in one line.
        logging.getLogger("elastic_transport").setLevel(logging.ERROR)
        # jieba attaches its own stderr handler at import and chats at DEBUG
        # while loading its dictionary; only its warnings are worth showing.
        logging.getLogger("jieba").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        env = config.load()
    except config.ConfigError as exc:
        print(f"banwave: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(env.log_level)
    try:
        return args.func(args, env)
    except config.ConfigError as exc:
        print(f"banwave: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("banwave: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
