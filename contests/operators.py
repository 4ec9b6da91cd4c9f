"""Who runs a management command, for the history of what it changed."""

import getpass
import os


def command_actor(command: str) -> str:
    """E.g. "manage.py create_contest (as deploy)": the operating system's user, if known."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container's uid with no name
        user = f"uid {os.getuid()}"
    return f"manage.py {command} (as {user})"[:150]
