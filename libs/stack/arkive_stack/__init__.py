"""Local launcher of the whole arkive stack on embedded servers (`arkive up`, the test fixtures).

Importing this package does no I/O and starts nothing.
"""

from .config import SERVICES, StackConfig
from .errors import ProcessDiedError, StackError, StartTimeoutError
from .processes import ManagedProcess
from .stack import Stack

__all__ = [
    "SERVICES",
    "ManagedProcess",
    "ProcessDiedError",
    "Stack",
    "StackConfig",
    "StackError",
    "StartTimeoutError",
]
