"""Contributor sessions: ``nox -s tests flink lint typecheck docs``."""

import nox

nox.options.sessions = ["tests", "flink", "lint", "typecheck", "docs"]


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    session.install("-e", ".[test,serve,plot,examples]", "-e", "examples/plugin")
    session.run("pytest", "-q", "-n", "2", *session.posargs)


@nox.session(python="3.11")
def flink(session: nox.Session) -> None:
    """The Flink suite, in its own virtualenv (PyFlink pins pandas<2.3, pyarrow<21); Java 17."""
    session.install("-e", ".[flink,test,examples]")
    session.run(
        "pytest",
        "-q",
        "-c",
        "tests_flink/pytest.ini",
        "--rootdir",
        ".",
        "tests_flink",
        "src/rtml/backends/flink",
        *session.posargs,
    )


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "src", "tests", "examples", "benchmarks")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[dev,serve]")
    session.run("mypy")


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict")
