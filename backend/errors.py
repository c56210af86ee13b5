"""Errors that services raise for staff to read, each with the next step to take."""


class PenjiError(Exception):
    """A failure explained in plain words; interfaces show its message as it is."""


class NotFound(PenjiError):
    """A school, community or run does not exist."""


class InvalidValue(PenjiError):
    """A value given by staff or a file is not acceptable."""


class Conflict(PenjiError):
    """The operation clashes with the current state, such as a run already applied."""
