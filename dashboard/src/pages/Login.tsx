import { useState, type FormEvent } from "react";
import { useSession } from "../auth";
import { Button, ErrorNote, Field, inputClass } from "../components/ui";

/** Log in; or, on a hub nobody has an account on yet, create the first admin. */
export function Login() {
  const { needsSetup, signIn } = useSession();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email, password, needsSetup);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <form onSubmit={submit} className="w-full max-w-sm rounded-lg border border-slate-200 bg-white p-6 shadow">
        <h1 className="mb-1 text-xl font-semibold">{needsSetup ? "Create the first admin" : "Log in to MorningAI hub"}</h1>
        <p className="mb-4 text-sm text-slate-600">
          {needsSetup
            ? "Nobody has an account on this hub yet. The account you create here is its admin; you can add more people later."
            : "Use the account an admin gave you, or MORNINGAI_ADMIN_EMAIL / MORNINGAI_ADMIN_PASSWORD."}
        </p>
        <Field label="Email" id="email">
          <input id="email" type="email" autoComplete="username" required className={inputClass}
                 value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <Field label="Password" id="password">
          <input id="password" type="password" required minLength={needsSetup ? 10 : undefined}
                 autoComplete={needsSetup ? "new-password" : "current-password"} className={inputClass}
                 value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        <ErrorNote error={error} />
        <Button type="submit" disabled={busy} className="w-full">
          {needsSetup ? "Create admin and log in" : "Log in"}
        </Button>
      </form>
    </main>
  );
}
