"""How a job attempt can fail. Anything else raised by a task is retried too: an unexpected error gets the same
bounded attempts as a transient one, then the job is recorded as failed with it."""


class PermanentJobError(Exception):
    """Retrying cannot help (bad parameters, an object that can never be processed): fail the job now."""


class RetryableJobError(Exception):
    """Worth another attempt after a backoff (a dependency away, an object not visible yet)."""
