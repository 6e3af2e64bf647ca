-- The admin dashboard: who may log in (users with a role), their sessions, failed logins for
-- rate limiting, and the settings an admin changed in the dashboard.

CREATE TABLE users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Stored lower-cased, so one address is one account however it is typed.
    email          text NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    password_hash  text NOT NULL,
    role           text NOT NULL CHECK (role IN ('admin', 'viewer')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_login_at  timestamptz
);
GRANT SELECT, INSERT, UPDATE, DELETE ON users TO morningai_app;

-- Server-side sessions: the cookie carries a random token and only its SHA-256 is kept here,
-- so logging out (or deleting a user) ends the session at once, and a database dump holds no
-- usable cookie. Each session has its own CSRF token (synchronizer token pattern).
CREATE TABLE sessions (
    token_hash    text PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON sessions TO morningai_app;

-- Failed logins of the last minutes, by address typed and by client IP, for the rate limit.
CREATE TABLE login_failures (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email   text NOT NULL,
    ip      text NOT NULL,
    at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_by_email ON login_failures (email, at);
CREATE INDEX login_failures_by_ip ON login_failures (ip, at);
GRANT SELECT, INSERT, DELETE ON login_failures TO morningai_app;

-- Settings changed in the dashboard; they take precedence over the environment.
CREATE TABLE settings (
    name        text PRIMARY KEY,
    value       jsonb NOT NULL,
    updated_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE, DELETE ON settings TO morningai_app;
