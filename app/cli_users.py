"""``hotline-gateway users create|list|passwd|unlock``: dashboard accounts from the command line.

Passwords are read from the terminal (twice) or, for scripts, one line on standard input with
``--password-stdin``; never from an argument, which other users of the machine could see.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy.orm import Session, sessionmaker

from gateway.settings import Role, Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``users`` command and its subcommands."""
    users = sub.add_parser("users", help="dashboard users: create, list, passwd, unlock")
    actions = users.add_subparsers(dest="users_command", required=True)
    create = actions.add_parser("create", help="create a user")
    create.add_argument("username")
    create.add_argument("--name", required=True, help="display name, recorded on every action (e.g. 张警官)")
    create.add_argument("--role", action="append", required=True, choices=[r.value for r in Role],
                        help="repeat for several roles")
    create.add_argument("--unit", help="handling unit (required with --role unit)")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.set_defaults(func=cmd_create)
    actions.add_parser("list", help="list users").set_defaults(func=cmd_list)
    passwd = actions.add_parser("passwd", help="set a user's password (signs the user out everywhere)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd.set_defaults(func=cmd_passwd)
    unlock = actions.add_parser("unlock", help="lift a login lock-out after too many failed logins")
    unlock.add_argument("username")
    unlock.set_defaults(func=cmd_unlock)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("密码：")
    if first != getpass.getpass("再次输入密码："):
        raise SystemExit("两次输入的密码不一致")
    return first


def _sessions(settings: Settings) -> sessionmaker[Session]:
    from gateway.store.db import make_engine, make_session_factory

    return make_session_factory(make_engine(settings.database_url))


def cmd_create(settings: Settings, args: argparse.Namespace) -> int:
    """Create a user with the given roles."""
    from gateway.errors import DomainError
    from gateway.services.accounts import create_user
    from gateway.store.db import transaction, utcnow

    password = _password(args.password_stdin)
    try:
        with transaction(_sessions(settings)) as session:
            user = create_user(session, username=args.username, display_name=args.name, password=password,
                               roles=args.role, unit=args.unit, actor="cli", now=utcnow())
            print(f"created {user.username} ({user.display_name}): {', '.join(user.roles)}"
                  + (f" @ {user.unit}" if user.unit else ""))
    except DomainError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


def cmd_list(settings: Settings, _: argparse.Namespace) -> int:
    """Print every user."""
    from gateway.store.users import list_users

    with _sessions(settings)() as session:
        for user in list_users(session):
            state = "active" if user.active else "disabled"
            print(f"{user.username:<20} {user.display_name:<16} {','.join(user.roles):<24} {user.unit or '-':<16} "
                  f"{state}")
    return 0


def cmd_passwd(settings: Settings, args: argparse.Namespace) -> int:
    """Set a user's password."""
    from gateway.errors import DomainError
    from gateway.services.accounts import set_password
    from gateway.store.db import transaction, utcnow
    from gateway.store.users import find_user

    password = _password(args.password_stdin)
    try:
        with transaction(_sessions(settings)) as session:
            user = find_user(session, username=args.username)
            if user is None:
                print(f"no such user: {args.username}", file=sys.stderr)
                return 1
            set_password(session, user_id=user.id, password=password, actor="cli", now=utcnow())
    except DomainError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"password set for {args.username}")
    return 0


def cmd_unlock(settings: Settings, args: argparse.Namespace) -> int:
    """Lift a user's login lock-out (audited as done by "cli")."""
    from gateway.services.login_throttle import unlock
    from gateway.store.db import transaction, utcnow
    from gateway.store.users import find_user

    with transaction(_sessions(settings)) as session:
        user = find_user(session, username=args.username)
        if user is None:
            print(f"no such user: {args.username}", file=sys.stderr)
            return 1
        lifted = unlock(session, user=user, actor="cli", now=utcnow(), ip=None)
    print(f"unlocked {args.username} ({lifted} lock{'s' if lifted != 1 else ''} lifted)")
    return 0
