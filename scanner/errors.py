"""Exit codes and the errors that carry them: one place, documented in `mpscan --help`."""

EXIT_OK = 0
EXIT_NOTHING_STORED = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3

EXIT_CODES_HELP = """\b
Exit codes:
  0  complete: every account and region was listed and stored
  1  nothing stored (no credentials, database unreachable, every region failed)
  2  usage or configuration error (bad option, unknown config key, bad value,
     unknown region, refused or invalid SQL)
  3  partial: some regions failed (see stderr and the `scans` tables); the
     others were stored and the failed ones kept their previous inventory"""


class MpscanError(Exception):
    """An error that ends a command with one line on stderr and an exit code."""

    exit_code = EXIT_NOTHING_STORED


class ConfigError(MpscanError):
    exit_code = EXIT_USAGE


class UsageError(MpscanError):
    exit_code = EXIT_USAGE


class DatabaseError(MpscanError):
    exit_code = EXIT_NOTHING_STORED


class QueryError(MpscanError):
    exit_code = EXIT_USAGE


class AwsSetupError(MpscanError):
    """Credentials or account lookup failed before any region could be scanned."""

    exit_code = EXIT_NOTHING_STORED
