"""Shared command-line behaviour of the scripts: bad input ends in one line on stderr, exit 2."""
import sys

from python_ref.config import Config, ConfigError, load_config


def config_or_exit(path) -> Config:
    """load_config(path), or print ``error: <what is wrong>`` and exit with status 2."""
    try:
        return load_config(path)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
