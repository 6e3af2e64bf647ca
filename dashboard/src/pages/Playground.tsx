import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { api, FINISHED, follow, poll, type Task } from "../api";
import { Markdown } from "../components/Markdown";
import { Citations, TraceTimeline } from "../components/Trace";
import { Button, EmptyState, ErrorNote, PageHeader, StatusBadge, inputClass } from "../components/ui";
import { WorkspacePicker } from "../components/WorkspacePicker";

interface Turn {
  id: string;
  text: string;
  task: Task | null;
  /** While the task runs: what the agent is doing, and the answer as the model writes it. */
  live: { status: string | null; doing: string | null; text: string };
}

/** Chat with the bot as the `web` platform: one thread per visit, each answer streaming in as it is
 * written, then shown with its sources and trace. */
export function Playground() {
  const [workspace, setWorkspace] = useState("default");
  const [thread] = useState(() => `playground-${crypto.randomUUID()}`);
  const [text, setText] = useState("");
  const [turns, setTurns] = useState<Turn[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function send(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const asked = text;
      const { id, url } = await api<{ id: string; url: string }>("/api/messages", {
        method: "POST",
        json: { text: asked, workspace, thread },
      });
      setText("");
      setTurns((current) => [...current, { id, text: asked, task: null, live: { status: null, doing: null, text: "" } }]);
      const update = (change: (turn: Turn) => Turn) =>
        setTurns((current) => current.map((turn) => (turn.id === id ? change(turn) : turn)));
      try {
        await follow(id, {
          onTask: (status) => update((turn) => ({ ...turn, live: { ...turn.live, status } })),
          onStatus: (doing) => update((turn) => ({ ...turn, live: { ...turn.live, doing } })),
          onText: (piece) => update((turn) => ({ ...turn, live: { ...turn.live, text: turn.live.text + piece } })),
        });
      } catch {
        // No live events here: polling shows the answer once it is posted.
      }
      await poll(() => api<Task>(url), (task) => FINISHED.includes(task.status), (task) =>
        update((turn) => ({ ...turn, task })), 300);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <PageHeader title="Playground">
        <WorkspacePicker value={workspace} onChange={setWorkspace} />
      </PageHeader>
      {turns.length === 0 && (
        <EmptyState title="Ask the bot anything">
          It answers from the workspace's knowledge, as it would in Slack or Discord, and shows its sources and how it got
          there. No knowledge yet? Add some on the <Link className="text-indigo-700 underline" to="/knowledge">Knowledge</Link> page.
        </EmptyState>
      )}
      <ol aria-label="Conversation" className="space-y-4">
        {turns.map((turn) => (
          <li key={turn.id} className="space-y-2">
            <p className="ml-auto max-w-2xl rounded-lg bg-indigo-700 p-3 text-white">{turn.text}</p>
            <div className="max-w-3xl rounded-lg border border-slate-200 bg-white p-3 shadow-sm">
              {turn.task?.reply ? (
                <>
                  <Markdown text={turn.task.reply.text} />
                  <Citations citations={turn.task.reply.citations} />
                  <details className="mt-2 text-sm">
                    <summary className="cursor-pointer text-indigo-700">Trace</summary>
                    <div className="mt-2"><TraceTimeline steps={turn.task.steps} /></div>
                  </details>
                  <Link className="text-sm text-indigo-700 underline" to={`/tasks/${turn.id}`}>Open task</Link>
                </>
              ) : (
                <div aria-live="polite" aria-label="Answer so far">
                  <p className="text-sm text-slate-600">
                    <StatusBadge status={turn.task?.status ?? turn.live.status ?? "received"} />{" "}
                    {turn.live.doing ?? "thinking…"}
                  </p>
                  {turn.live.text && <Markdown text={turn.live.text} />}
                </div>
              )}
            </div>
          </li>
        ))}
      </ol>
      <ErrorNote error={error} />
      <form onSubmit={send} className="mt-6 flex gap-2">
        <label htmlFor="message" className="sr-only">Message</label>
        <input id="message" className={inputClass} required value={text} placeholder="How do we deploy?"
               onChange={(e) => setText(e.target.value)} />
        <Button type="submit" disabled={busy}>Send</Button>
      </form>
    </>
  );
}
