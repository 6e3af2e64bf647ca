-- Settings and secrets saved in the dashboard apply without a restart (issue 19): every change
-- to either table bumps one number, which each process of the hub reads at most once a second
-- (hub/admin/live.py) and, when it moved, opens the settings and secrets again. A trigger
-- rather than the code that saves, so that no writer (a rotation's reseal, an admin's psql)
-- can change them without the processes noticing.
CREATE TABLE settings_version (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version   bigint NOT NULL
);
INSERT INTO settings_version (version) VALUES (1);
GRANT SELECT, UPDATE ON settings_version TO morningai_app;

CREATE FUNCTION bump_settings_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE settings_version SET version = version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON settings
    FOR EACH STATEMENT EXECUTE FUNCTION bump_settings_version();
CREATE TRIGGER secrets_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON secrets
    FOR EACH STATEMENT EXECUTE FUNCTION bump_settings_version();
