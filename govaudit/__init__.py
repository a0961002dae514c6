"""govaudit: audits government information-disclosure platforms against published rubrics."""

__version__ = "0.1.0"

# Exit codes of the `govaudit` command: each means one thing, so a scheduler can act on it.
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2  # usage error, bad sites file, unknown check/rubric/run
EXIT_SITES_FAILED = 3  # the run finished, but some sites could not be crawled
EXIT_NETWORK = 4  # every site failed at once: our network, not the sites
EXIT_LOCKED = 5  # another run holds the store's lock
