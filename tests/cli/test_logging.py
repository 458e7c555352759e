"""The CLI's logging: the docpipe logger prints messages as they always read, warnings by default,
more with -v and -vv, to whatever stderr is at the time."""

from __future__ import annotations

import logging

import pytest

from docpipe.cli.main import build_parser, configure_logging


@pytest.fixture(autouse=True)
def restore_level():
    logger = logging.getLogger("docpipe")
    level, handlers = logger.level, list(logger.handlers)
    yield
    logger.setLevel(level)
    logger.handlers[:] = handlers


def test_warnings_by_default_more_with_verbose(capsys):
    log = logging.getLogger("docpipe.figure_pass")
    configure_logging(0)
    configure_logging(0)  # configuring twice must not print twice
    log.warning("docpipe: a.pdf, page 2: osra is not installed")
    log.info("docpipe: a.pdf: ok")
    assert capsys.readouterr().err == "docpipe: a.pdf, page 2: osra is not installed\n"
    configure_logging(1)
    log.info("docpipe: a.pdf: ok")
    log.debug("docpipe: a.pdf, page 1: textlayer")
    assert capsys.readouterr().err == "docpipe: a.pdf: ok\n"
    configure_logging(2)
    log.debug("docpipe: a.pdf, page 1: textlayer")
    assert capsys.readouterr().err == "docpipe: a.pdf, page 1: textlayer\n"


def test_verbose_is_an_option_of_each_command():
    parser = build_parser()
    assert parser.parse_args(["convert", "x.pdf", "-o", "out", "-vv"]).verbose == 2
    assert parser.parse_args(["schema", "--verbose"]).verbose == 1
    assert parser.parse_args(["convert", "x.pdf", "-o", "out"]).verbose == 0
