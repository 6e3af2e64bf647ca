"""Who may use the dashboard and admin API: users with a role, their sessions, and the failed
logins that rate-limit guessing. This module owns the `users`, `sessions` and `login_failures`
tables.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg.errors import UniqueViolation

from core.db import Database

ROLES = ("admin", "viewer")
MIN_PASSWORD = 10
SESSION_DAYS = 14
# Failed logins allowed per window, per address typed and per client IP; the IP limit is
# higher because several people may share one office address.
FAILURE_WINDOW_MINUTES = 15
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_IP = 20

_hasher = PasswordHasher()  # argon2id with the library's current recommended cost
# Verified against when the address is unknown, so a wrong address takes as long as a wrong
# password and response times do not tell which addresses have accounts.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """Bad input for an account (the message names the field), or a conflict with another."""


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    email: str
    role: str
    created_at: datetime | None = None
    last_login_at: datetime | None = None

    def to_json(self) -> dict:
        return {"id": str(self.id), "email": self.email, "role": self.role,
                "created_at": self.created_at.isoformat() if self.created_at else None,
                "last_login_at": self.last_login_at.isoformat() if self.last_login_at else None}


def normalized_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or not domain or len(email) > 254 or any(c.isspace() for c in email):
        raise AccountError("email: give an address like admin@example.com")
    return email


def count(db: Database) -> int:
    with db.connection() as conn:
        return conn.execute("SELECT count(*) AS n FROM users").fetchone()["n"]


def create(db: Database, email: str, password: str, role: str, *, only_if_none: bool = False) -> User | None:
    """Add a user. With only_if_none, only while there are no users at all (the first admin);
    then None means someone else was first."""
    if role not in ROLES:
        raise AccountError(f"role: must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: use at least {MIN_PASSWORD} characters")
    email = normalized_email(email)
    guard = "WHERE NOT EXISTS (SELECT 1 FROM users)" if only_if_none else ""
    try:
        with db.connection() as conn:
            row = conn.execute(
                f"INSERT INTO users (email, password_hash, role) SELECT %s, %s, %s {guard} "
                "RETURNING id, email, role, created_at, last_login_at",
                (email, _hasher.hash(password), role)).fetchone()
    except UniqueViolation:
        if only_if_none:
            return None
        raise AccountError(f"email: {email} already has an account") from None
    return User(**row) if row else None


def listing(db: Database) -> list[User]:
    with db.connection() as conn:
        rows = conn.execute("SELECT id, email, role, created_at, last_login_at FROM users ORDER BY email")
        return [User(**row) for row in rows]


def delete(db: Database, user_id: uuid.UUID) -> bool:
    """Remove a user; their sessions go with them (ON DELETE CASCADE)."""
    with db.connection() as conn:
        return conn.execute("DELETE FROM users WHERE id = %s", (user_id,)).rowcount == 1


def authenticate(db: Database, email: str, password: str) -> User | None:
    try:
        email = normalized_email(email)
    except AccountError:
        email = ""
    with db.connection() as conn:
        row = conn.execute("SELECT id, email, role, password_hash FROM users WHERE email = %s",
                           (email,)).fetchone()
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    with db.connection() as conn:
        if _hasher.check_needs_rehash(row["password_hash"]):  # the library's cost went up
            conn.execute("UPDATE users SET password_hash = %s WHERE id = %s",
                         (_hasher.hash(password), row["id"]))
        conn.execute("UPDATE users SET last_login_at = now() WHERE id = %s", (row["id"],))
    return User(row["id"], row["email"], row["role"])


# --- sessions -------------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: Database, user: User) -> tuple[str, str]:
    """A new session for the user: (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with db.connection() as conn:
        conn.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) "
            "VALUES (%s, %s, %s, now() + make_interval(days => %s))",
            (_digest(token), user.id, csrf, SESSION_DAYS))
        # Expired sessions are swept here rather than by a timer: logins are rare and cheap.
        conn.execute("DELETE FROM sessions WHERE expires_at < now()")
    return token, csrf


def session(db: Database, token: str) -> tuple[User, str] | None:
    """The user and CSRF token of a live session; None for an unknown or expired token."""
    with db.connection() as conn:
        row = conn.execute(
            """UPDATE sessions s SET last_seen_at = now() FROM users u
               WHERE s.token_hash = %s AND s.expires_at > now() AND u.id = s.user_id
               RETURNING u.id, u.email, u.role, s.csrf_token""",
            (_digest(token),)).fetchone()
    return (User(row["id"], row["email"], row["role"]), row["csrf_token"]) if row else None


def close_session(db: Database, token: str) -> None:
    with db.connection() as conn:
        conn.execute("DELETE FROM sessions WHERE token_hash = %s", (_digest(token),))


# --- failed logins --------------------------------------------------------------------------

def record_failure(db: Database, email: str, ip: str) -> None:
    with db.connection() as conn:
        conn.execute("INSERT INTO login_failures (email, ip) VALUES (%s, %s)", (email.strip().lower(), ip))
        conn.execute("DELETE FROM login_failures WHERE at < now() - make_interval(mins => %s)",
                     (FAILURE_WINDOW_MINUTES,))


def forget_failures(db: Database, email: str) -> None:
    """A successful login clears the address's count (not the IP's: guessing other accounts
    from that IP stays limited)."""
    with db.connection() as conn:
        conn.execute("DELETE FROM login_failures WHERE email = %s", (email.strip().lower(),))


def locked_for(db: Database, email: str, ip: str) -> int:
    """Seconds until another login may be tried for this address from this IP; 0: go ahead."""
    with db.connection() as conn:
        row = conn.execute(
            """WITH recent AS (SELECT email, ip, at FROM login_failures
                               WHERE at > now() - make_interval(mins => %(window)s)
                                 AND (email = %(email)s OR ip = %(ip)s)),
                    over AS (SELECT 1 FROM recent WHERE email = %(email)s
                             HAVING count(*) >= %(per_email)s
                             UNION ALL
                             SELECT 1 FROM recent WHERE ip = %(ip)s HAVING count(*) >= %(per_ip)s)
               SELECT ceil(extract(epoch FROM min(at) + make_interval(mins => %(window)s) - now())) AS wait
               FROM recent WHERE EXISTS (SELECT 1 FROM over)""",
            {"window": FAILURE_WINDOW_MINUTES, "email": email.strip().lower(), "ip": ip,
             "per_email": MAX_FAILURES_PER_EMAIL, "per_ip": MAX_FAILURES_PER_IP}).fetchone()
    return max(int(row["wait"]), 1) if row and row["wait"] is not None else 0
