"""`civicradar users ...`: manage dashboard users from a shell (the Admin page does the same in the browser)."""

from __future__ import annotations

import argparse

from dashboard.auth import ROLES, AuthError, UserStore, ensure_admin
from settings import Settings


def store_for(s: Settings) -> UserStore:
    return UserStore(s.path(s.dashboard.users_file))


def add_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("op", choices=["list", "add", "role", "disable", "enable", "reset-password", "remove"],
                     help="what to do")
    cmd.add_argument("username", nargs="?", help="the user (all but `list`)")
    cmd.add_argument("--role", choices=ROLES, help="role for `add` and `role`")
    cmd.add_argument("--name", default="", help="display name for `add`")
    cmd.add_argument("--email", default="", help="e-mail for `add` (matches single sign-on users)")


def first_admin_line(s: Settings) -> str | None:
    """On first start, create `admin` with a generated password; the line to print once, else None."""
    password = ensure_admin(store_for(s))
    if password is None:
        return None
    return (f"CivicRadar dashboard: created user 'admin' with password {password} (stored hashed in "
            f"{s.path(s.dashboard.users_file)}; shown only now). Add others on the Admin page or with "
            "`civicradar users add NAME --role ROLE`.")


def run(s: Settings, args: argparse.Namespace) -> int:
    store = store_for(s)
    if args.op == "list":
        for u in store.users().values():
            state = " (disabled)" if u.disabled else ""
            print(f"{u.username}\t{u.role}\t{u.name}\t{u.email}{state}")
        return 0
    if not args.username:
        raise AuthError(f"`users {args.op}` needs a username")
    if args.op in ("add", "role") and not args.role:
        raise AuthError(f"`users {args.op}` needs --role ({', '.join(ROLES)})")
    if args.op == "add":
        password = store.add(args.username, args.role, name=args.name, email=args.email)
        print(f"added {args.username} ({args.role}); password: {password}")
    elif args.op == "reset-password":
        print(f"new password for {args.username}: {store.reset_password(args.username)}")
    elif args.op == "remove":
        store.remove(args.username)
        print(f"removed {args.username}")
    else:
        changes = {"role": {"role": args.role}, "disable": {"disabled": True}, "enable": {"disabled": False}}
        user = store.update(args.username, **changes[args.op])  # type: ignore[arg-type]
        print(f"{user.username}: role {user.role}{', disabled' if user.disabled else ''}")
    return 0
