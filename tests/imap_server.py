"""A real IMAP server for tests: Dovecot (Debian's dovecot-imapd) on a free loopback port, plaintext, one user.

`make test` installs dovecot-imapd where it is missing; elsewhere the tests that need it are skipped (failed under
CI, where a skip would hide a missing install step).
"""

from __future__ import annotations

import imaplib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from helpers import free_port

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
USER, PASSWORD = "tips@harbor.example", "tips-password-42"

CONFIG = """
base_dir = {root}/run
protocols = imap
listen = 127.0.0.1
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={root}/mail/%u
}}
mail_location = maildir:{root}/mail/%u/Maildir
log_path = {root}/dovecot.log
default_login_user = nobody
default_internal_user = nobody
default_internal_group = nogroup
first_valid_uid = 1
"""


class ImapServer:
    """Its files live in a folder of its own, readable by `nobody` (Dovecot's mail and auth user): pytest's
    tmp_path sits under a 0700 folder that nobody cannot enter."""

    def __init__(self) -> None:
        if DOVECOT is None:
            if os.environ.get("CI"):
                pytest.fail("dovecot is not installed: `make test` installs dovecot-imapd; run it, or apt-get it")
            pytest.skip("dovecot (Debian dovecot-imapd) is not installed; `make test` installs it")
        self.root = root = Path(tempfile.mkdtemp(prefix="civicradar-imap-"))
        self.port = free_port()
        (root / "mail").mkdir()
        (root / "run").mkdir()
        os.chmod(root, 0o755)
        os.chmod(root / "mail", 0o777)  # the mail user is nobody
        (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        (root / "dovecot.conf").write_text(CONFIG.format(root=root, port=self.port))
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait()

    @property
    def url(self) -> str:
        return f"imap://127.0.0.1:{self.port}"

    def _wait(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                imaplib.IMAP4("127.0.0.1", self.port).logout()
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"dovecot exited: {self.process.stderr.read().decode()}") from None
                time.sleep(0.1)
        raise RuntimeError("dovecot did not start listening within 15 s")

    def deliver(self, *messages: bytes, flags: str | None = None) -> None:
        """Put messages in the user's INBOX the way a mail server's delivery would (IMAP APPEND)."""
        client = imaplib.IMAP4("127.0.0.1", self.port)
        client.login(USER, PASSWORD)
        for message in messages:
            client.append("INBOX", flags, None, message)
        client.logout()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if self.process.stderr:
            self.process.stderr.close()
        shutil.rmtree(self.root, ignore_errors=True)


def mail(n: int, subject: str = "Testing site", body: str = "The line at the fairgrounds is two hours long.",
         sender: str = "resident{n}@example.org", headers: str = "", html: bool = False) -> bytes:
    kind = "text/html" if html else "text/plain"
    return (f"From: Resident {n} <{sender.format(n=n)}>\r\nTo: {USER}\r\nSubject: {subject} {n}\r\n"
            f"Date: Tue, 01 Dec 2026 10:{n % 60:02d}:00 +0000\r\nMessage-ID: <tip-{n}@example.org>\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: {kind}; charset=utf-8\r\n{headers}\r\n{body}\r\n").encode()
