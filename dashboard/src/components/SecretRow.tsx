import { useState } from "react";
import { api } from "../api";
import { Button, ErrorNote, inputClass } from "./ui";

/** GET /api/settings: the settings the dashboard can change, and every secret (set or not, never its value). */
export interface Setting {
  name: string;
  variable: string;
  value: string | number | null;
  source: "dashboard" | "environment";
  description: string;
}

export interface Secret {
  variable: string;
  set: boolean;
  source: "dashboard" | "environment" | "generated" | null;
  editable: boolean;
  unreadable: boolean;
  description: string;
}

export interface SettingsBody {
  settings: Setting[];
  provider: string;
  embedder: string;
  secrets: Secret[];
  note: string;
}

const FROM = { dashboard: "from the dashboard", environment: "from the environment", generated: "generated into MORNINGAI_HOME" };

/** Write-only: a value typed here is sent once and never shown again, not even in part. */
export function SecretRow({ secret, admin, onChange }: { secret: Secret; admin: boolean; onChange: (body: SettingsBody) => void }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState<unknown>(null);
  const id = `secret-${secret.variable}`;
  const path = `/api/secrets/${encodeURIComponent(secret.variable)}`;

  async function change(request: Promise<SettingsBody>) {
    setError(null);
    try {
      onChange(await request);
      setValue("");
    } catch (caught) {
      setError(caught);
    }
  }

  return (
    <li className="py-3">
      <p className="text-sm">
        <code className="font-semibold">{secret.variable}</code>:{" "}
        <span id={`${id}-status`}>{secret.set ? `set · ${FROM[secret.source!]}` : "not set"}</span>
      </p>
      <p className="text-xs text-slate-600">{secret.description}</p>
      {secret.unreadable && (
        <p role="alert" className="mt-1 text-sm text-amber-900">
          The value set in the dashboard no longer decrypts (MORNINGAI_SECRET_KEY changed): the environment's is used. Set it again.
        </p>
      )}
      {admin && secret.editable && (
        <form className="mt-2 flex flex-wrap gap-2" onSubmit={(e) => { e.preventDefault(); void change(api(path, { method: "PUT", json: { value } })); }}>
          <label className="sr-only" htmlFor={id}>New value for {secret.variable}</label>
          <input id={id} type="password" autoComplete="new-password" required className={`${inputClass} w-auto flex-1`}
                 placeholder={secret.set ? "type a new value to replace it" : "paste the value"} aria-describedby={`${id}-status`}
                 value={value} onChange={(e) => setValue(e.target.value)} />
          <Button type="submit" aria-label={`Save ${secret.variable}`}>Save</Button>
          {secret.source === "dashboard" && (
            <Button type="button" variant="secondary" aria-label={`Clear the dashboard's ${secret.variable}`}
                    onClick={() => void change(api(path, { method: "DELETE" }))}>
              Clear
            </Button>
          )}
        </form>
      )}
      <ErrorNote error={error} />
    </li>
  );
}
