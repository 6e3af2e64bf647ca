import { useEffect, useState, type FormEvent } from "react";
import { api, type User } from "../api";
import { useSession } from "../auth";
import { DocsRepositoryForm } from "../components/Proposals";
import { SecretRow, type SettingsBody } from "../components/SecretRow";
import { Button, Card, ErrorNote, Field, PageHeader, inputClass } from "../components/ui";

const NUMERIC = new Set(["llm_timeout", "daily_token_budget", "user_rate_limit"]);

function Users() {
  const [users, setUsers] = useState<User[]>([]);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState("viewer");
  const [error, setError] = useState<unknown>(null);
  const load = () => void api<{ users: User[] }>("/api/users").then((b) => setUsers(b.users)).catch(setError);
  useEffect(load, []);

  async function add(event: FormEvent) {
    event.preventDefault();
    try {
      await api("/api/users", { method: "POST", json: { email, password, role } });
      setEmail("");
      setPassword("");
      load();
    } catch (caught) {
      setError(caught);
    }
  }

  return (
    <Card title="People">
      <ul className="mb-4 divide-y divide-slate-100 text-sm">
        {users.map((user) => <li key={user.id} className="py-1">{user.email} · {user.role}</li>)}
      </ul>
      <form onSubmit={add} className="grid gap-2 sm:grid-cols-4">
        <label className="sr-only" htmlFor="new-email">New user's email</label>
        <input id="new-email" type="email" required placeholder="email" className={inputClass} value={email} onChange={(e) => setEmail(e.target.value)} />
        <label className="sr-only" htmlFor="new-password">New user's password</label>
        <input id="new-password" type="password" required minLength={10} placeholder="password (10+ characters)" className={inputClass} value={password} onChange={(e) => setPassword(e.target.value)} />
        <label className="sr-only" htmlFor="new-role">Role</label>
        <select id="new-role" className={inputClass} value={role} onChange={(e) => setRole(e.target.value)}>
          <option value="viewer">viewer (read only)</option>
          <option value="admin">admin</option>
        </select>
        <Button type="submit">Add person</Button>
      </form>
      <ErrorNote error={error} />
    </Card>
  );
}

export function SettingsPage() {
  const { user } = useSession();
  const [body, setBody] = useState<SettingsBody | null>(null);
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);

  function show(next: SettingsBody) {
    setBody(next);
    setDraft(Object.fromEntries(next.settings.map((s) => [s.name, s.value == null ? "" : String(s.value)])));
  }
  useEffect(() => void api<SettingsBody>("/api/settings").then(show).catch(setError), []);

  async function save(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setSaved(false);
    const changes = Object.fromEntries(
      Object.entries(draft).map(([name, value]) => [name, value === "" ? null : NUMERIC.has(name) ? Number(value) : value]),
    );
    try {
      show(await api<SettingsBody>("/api/settings", { method: "PUT", json: changes }));
      setSaved(true);
    } catch (caught) {
      setError(caught);
    }
  }

  return (
    <>
      <PageHeader title="Settings" />
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Model and budgets">
          {body && (
            <form onSubmit={save}>
              <p className="mb-3 text-sm text-slate-700">
                Provider: <strong>{body.provider}</strong>{body.provider === "offline" && " (set OPENAI_API_KEY under Secrets, or in the environment, to use a model)"} · Embedder: <strong>{body.embedder}</strong>
              </p>
              {body.settings.map((setting) => (
                <Field key={setting.name} id={setting.name} label={`${setting.description} (${setting.variable}, from the ${setting.source})`}>
                  <input id={setting.name} className={inputClass} value={draft[setting.name] ?? ""}
                         inputMode={NUMERIC.has(setting.name) ? "decimal" : undefined} disabled={user?.role !== "admin"}
                         onChange={(e) => setDraft((d) => ({ ...d, [setting.name]: e.target.value }))} />
                </Field>
              ))}
              <p className="mb-3 text-sm text-slate-600">{body.note} An empty field goes back to the environment's value.</p>
              <ErrorNote error={error} />
              {saved && <p role="status" className="mb-2 text-sm text-green-800">Saved.</p>}
              <Button type="submit" disabled={user?.role !== "admin"}>Save settings</Button>
            </form>
          )}
        </Card>
        <Card title="Secrets">
          <p className="mb-2 text-sm text-slate-700">
            Secrets come from the hub's environment, or from here: a value set here overrides the environment's in every process of
            the hub within seconds, with no restart, and is never shown again, to anyone.{user?.role !== "admin" && " Only admins can change them."}
          </p>
          <ul className="divide-y divide-slate-100">
            {body?.secrets.map((secret) => (
              <SecretRow key={secret.variable} secret={secret} admin={user?.role === "admin"} onChange={setBody} />
            ))}
          </ul>
        </Card>
        <Card title="Docs repository">
          <DocsRepositoryForm admin={user?.role === "admin"} />
        </Card>
        {user?.role === "admin" && <Users />}
      </div>
    </>
  );
}
