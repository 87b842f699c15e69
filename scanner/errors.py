"""Exit codes and the errors that carry them: one place, documented in `mpscan --help`."""

from typing import Literal

EXIT_OK = 0
EXIT_NOTHING_STORED = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_FINDINGS = 4
EXIT_BUSY = 5
EXIT_STALE = 6
EXIT_TIMEOUT = 7
EXIT_NOT_IMPORTED = 8
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGINT, as shells report 128 + SIGINT
EXIT_TERMINATED = 143  # SIGTERM (timeout, systemd, Kubernetes), 128 + SIGTERM

# The public contract: every exit code mpscan uses, and what it means. The README's table
# and each command's --help are made from this (a test keeps the README in step).
EXIT_CODES = {
    EXIT_OK: "complete: every account and region was listed and stored",
    EXIT_NOTHING_STORED: "nothing stored (no credentials, database unreachable or not an mpscan "
    "database, every region failed)",
    EXIT_USAGE: "usage or configuration error (bad option, unknown config key, bad value, "
    "unknown region, refused or invalid SQL)",
    EXIT_PARTIAL: "partial: some regions failed (see stderr and the `scan_regions` table); the "
    "others were stored and the failed ones kept their previous inventory",
    EXIT_FINDINGS: "mpscan check: an unwaived failing finding at or above --fail-on exists",
    EXIT_BUSY: "busy: another scan of the same database is running (the message names it); "
    "nothing was done. `mpscan scan --wait` waits for it instead",
    EXIT_STALE: "mpscan status: an account and region's last scan is older than --max-age, "
    "or it was never scanned",
    EXIT_TIMEOUT: "mpscan query: the statement ran longer than --timeout ([query] timeout) and "
    "was cancelled; nothing was written",
    EXIT_NOT_IMPORTED: "mpscan export: some findings were not imported (each failed batch and "
    "finding is listed on stderr with its error); the others were",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C or SIGINT): the scan is recorded as interrupted and "
    "every unfinished region keeps its previous inventory",
    EXIT_TERMINATED: "terminated (SIGTERM, as timeout, systemd and Kubernetes send): as 130, the "
    "scan is recorded as interrupted and every unfinished region keeps its previous inventory",
}


def exit_codes_help(**meanings: str | Literal[True]) -> str:
    """A command's --help epilog. Keys: code_0, code_1, ...: that command's own wording;
    codes not named are left out unless listed in EXIT_CODES and passed as True."""
    import textwrap

    lines = ["\b", "Exit codes:"]
    for key, meaning in meanings.items():
        code = int(key.removeprefix("code_"))
        text = EXIT_CODES[code] if meaning is True else meaning
        wrapped = textwrap.wrap(text, 72)
        lines.append(f"  {code:<4}{wrapped[0]}")
        lines.extend(f"      {part}" for part in wrapped[1:])
    return "\n".join(lines)


EXIT_CODES_HELP = exit_codes_help(
    code_0=True, code_1=True, code_2=True, code_3=True, code_5=True, code_130=True
)
_EVERY_CODE: dict[str, Literal[True]] = {f"code_{code}": True for code in EXIT_CODES}
ALL_EXIT_CODES_HELP = exit_codes_help(**_EVERY_CODE)


class Terminated(KeyboardInterrupt):
    """SIGTERM: unwinds exactly as Ctrl-C does (scanner.cli installs the handler)."""

    received = False  # set by the handler: code that loses the exception can raise it again


class MpscanError(Exception):
    """An error that ends a command with one line on stderr and an exit code."""

    exit_code = EXIT_NOTHING_STORED


class ConfigError(MpscanError):
    exit_code = EXIT_USAGE


class UsageError(MpscanError):
    exit_code = EXIT_USAGE


class DatabaseError(MpscanError):
    exit_code = EXIT_NOTHING_STORED


class JudgeError(MpscanError):
    """A judgement's worker process failed: nothing of that evaluation was written."""

    exit_code = EXIT_NOTHING_STORED


class QueryError(MpscanError):
    exit_code = EXIT_USAGE


class QueryTimeout(MpscanError):
    """User SQL ran past its time limit and was cancelled."""

    exit_code = EXIT_TIMEOUT


class ScanBusy(MpscanError):
    """Another scan holds the database's scan lock: `holder` names it; the message adds
    what a person at the command line can do about it."""

    exit_code = EXIT_BUSY

    def __init__(self, holder: str, waited: float | None = None):
        self.holder = holder
        hint = (
            "use --wait to wait for it"
            if waited is None
            else f"still running after waiting {waited:g} s"
        )
        super().__init__(f"another scan is running: {holder}; {hint}")


class AwsSetupError(MpscanError):
    """Credentials or account lookup failed before any region could be scanned."""

    exit_code = EXIT_NOTHING_STORED


def one_line(exc: BaseException) -> str:
    """An error as one line: the driver's own message for a database error (not
    SQLAlchemy's wrapping and background link), its first line, whitespace folded."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return " ".join(text.splitlines()[0].split()) if text else type(exc).__name__
