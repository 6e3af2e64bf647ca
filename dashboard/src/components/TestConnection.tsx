import { useState } from "react";
import { api } from "../api";
import { Button, ErrorNote, StatusBadge } from "./ui";

/** What the hub asked the platform (POST /api/integrations/<platform>/test) and what it said. */
export interface Tested {
  platform: string;
  ok: boolean;
  message: string;
  answer: unknown;
}

const ASKS: Record<string, string> = {
  slack: "Slack's auth.test",
  discord: "Discord's /users/@me",
  model: "the model server's /models",
};

/**
 * Test connection: asks the platform, with the secrets saved now (they apply within seconds,
 * no restart), who the hub is, and shows the platform's own answer or its own error text.
 */
export function TestConnection({ platform, name }: { platform: string; name: string }) {
  const [tested, setTested] = useState<Tested | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function test() {
    setBusy(true);
    setError(null);
    setTested(null);
    try {
      setTested(await api<Tested>(`/api/integrations/${platform}/test`, { method: "POST" }));
    } catch (caught) {
      setError(caught); // nothing to test with yet (409): the message says which secret to set
    } finally {
      setBusy(false);
    }
  }
  return (
    <section aria-label={`Test the ${name} connection`} className="mt-4">
      <div className="flex flex-wrap items-center gap-3">
        <Button variant="secondary" onClick={() => void test()} disabled={busy}>
          {busy ? "Testing…" : "Test connection"}
        </Button>
        <span className="text-xs text-slate-600">Asks {ASKS[platform] ?? name} with the secrets saved now.</span>
      </div>
      <ErrorNote error={error} />
      {tested && (
        <div role="status" className="mt-3 text-sm">
          <p className="mb-1">
            <StatusBadge status={tested.ok ? "connected" : "failed"} /> <span className="text-slate-800">{tested.message}</span>
          </p>
          <details>
            <summary className="cursor-pointer text-slate-600">{name}'s own answer</summary>
            <pre className="mt-1 max-h-48 overflow-auto rounded bg-slate-50 p-2 text-xs">
              {typeof tested.answer === "string" ? tested.answer : JSON.stringify(tested.answer, null, 2)}
            </pre>
          </details>
        </div>
      )}
    </section>
  );
}
