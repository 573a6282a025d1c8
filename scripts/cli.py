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


def images_or_exit(names: str) -> list[str]:
    """A comma-separated list of image names (python_ref.model.images), or ``error: unknown
    image(s) ...`` naming the known ones, exit status 2."""
    from python_ref.model.images import image_names

    images = [i for i in names.split(",") if i]
    unknown = [i for i in images if i not in image_names()]
    if unknown:
        print(f"error: unknown image(s) {', '.join(unknown)}; images: {', '.join(image_names())}", file=sys.stderr)
        raise SystemExit(2)
    return images


def publish(text: str, update, section: str) -> None:
    """Print a script's markdown ``text``; with ``update`` (a document path) also write it between
    that document's ``<!-- BEGIN section -->`` markers (scripts/results_doc.py)."""
    from pathlib import Path

    from scripts.results_doc import update_section

    print(text)
    if update:
        update_section(Path(update), section, text)
        print(f"updated {update}", file=sys.stderr)
