import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { api, type Escalation, type Task, type TaskSummary } from "../api";
import { Markdown } from "../components/Markdown";
import { Button, Card, EmptyState, ErrorNote, HeadWithActions, PageHeader, Table, inputClass } from "../components/ui";

/** A drafted answer: where and when it was asked (the task list's row), and the question and answer in full. */
interface Draft {
  summary: TaskSummary;
  question: string;
  answer: string;
}

const SHOWN = 50;
const linkClass = "text-indigo-700 underline";

/** The support desk: answers drafted for a person to publish, and questions handed over to a person. */
export function Support() {
  const [drafts, setDrafts] = useState<{ items: Draft[]; total: number } | null>(null);
  const [escalations, setEscalations] = useState<Escalation[] | null>(null);
  const [errors, setErrors] = useState<{ drafts?: unknown; escalations?: unknown }>({});
  // What the last Publish, Dismiss or Resolve did: its item has left the list.
  const [done, setDone] = useState("");

  const load = useCallback(async () => {
    setErrors({});
    await Promise.all([
      loadDrafts().then(setDrafts, (caught) => setErrors((now) => ({ ...now, drafts: caught }))),
      api<{ escalations: Escalation[] }>("/api/escalations").then(
        (body) => setEscalations(body.escalations),
        (caught) => setErrors((now) => ({ ...now, escalations: caught }))),
    ]);
  }, []);
  useEffect(() => void load(), [load]);

  function settled(id: string, words: string) {
    setDone(words);
    setDrafts((now) => now && { items: now.items.filter((d) => d.summary.id !== id), total: now.total - 1 });
    setEscalations((now) => now && now.filter((e) => e.id !== id));
  }

  return (
    <>
      <PageHeader title="Support">
        <Button variant="secondary" onClick={() => void load()}>Refresh</Button>
      </PageHeader>
      <p role="status" className="mb-3 text-sm text-slate-700">{done}</p>
      <div className="space-y-4">
        <Card title="Drafts waiting for review">
          <ErrorNote error={errors.drafts} />
          {drafts === null ? (
            !errors.drafts && <p>Loading…</p>
          ) : drafts.items.length === 0 ? (
            <EmptyState title="No drafts waiting">
              In a channel whose answer mode is Draft, the bot's answers to questions nobody tagged it in wait here
              to be published or dismissed. Set a channel's answer mode to Draft
              on <Link className={linkClass} to="/integrations">Integrations</Link>.
            </EmptyState>
          ) : (
            <>
              {drafts.total > drafts.items.length && (
                <p className="mb-2 text-sm text-slate-600">
                  The {drafts.items.length} newest of {drafts.total} drafts: publish or dismiss some, then refresh.
                </p>
              )}
              <ul className="space-y-3">
                {drafts.items.map((draft) => <DraftItem key={draft.summary.id} draft={draft} onSettled={settled} />)}
              </ul>
            </>
          )}
        </Card>
        <Card title="Handed over to a person">
          <ErrorNote error={errors.escalations} />
          {escalations === null ? (
            !errors.escalations && <p>Loading…</p>
          ) : escalations.length === 0 ? (
            <EmptyState title="Nobody asked for a person">
              Questions someone pressed “Ask a person” on wait here, oldest first, until they are resolved. Choose
              who gets called in each channel's support desk settings
              on <Link className={linkClass} to="/integrations">Integrations</Link>.
            </EmptyState>
          ) : (
            <EscalationTable escalations={escalations} onSettled={settled} />
          )}
        </Card>
      </div>
    </>
  );
}

async function loadDrafts(): Promise<{ items: Draft[]; total: number }> {
  const list = await api<{ total: number; tasks: TaskSummary[] }>(`/api/tasks?status=drafted&limit=${SHOWN}`);
  // The list has the question's first 300 characters and no answer: each draft is read in full.
  const tasks = await Promise.all(list.tasks.map((summary) => api<Task>(`/api/tasks/${summary.id}`)));
  const items = list.tasks.flatMap((summary, i) => {
    const task = tasks[i];
    // Someone may have published or dismissed it in the meantime.
    return task.status === "drafted" && task.reply ? [{ summary, question: task.text, answer: task.reply.text }] : [];
  });
  return { items, total: list.total - (list.tasks.length - items.length) };
}

function where(item: { platform: string; channel: string | null; workspace: string }): string {
  return [item.platform, item.channel, `workspace ${item.workspace}`].filter(Boolean).join(" · ");
}

/** The start of a question, to name it in a sentence. */
function short(text: string): string {
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

function DraftItem({ draft, onSettled }: { draft: Draft; onSettled: (id: string, words: string) => void }) {
  const { summary, question, answer } = draft;
  const [edited, setEdited] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const id = `draft-${summary.id}`;

  async function review(action: "publish" | "dismiss", text?: string) {
    setBusy(true);
    setError(null);
    try {
      const body = await api<{ result: string }>(`/api/tasks/${summary.id}/${action}`, {
        method: "POST", json: text === undefined ? undefined : { text },
      });
      onSettled(summary.id, `“${short(question)}”: ${body.result}.`);
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  }

  return (
    <li>
      <article aria-labelledby={`${id}-question`} className="rounded border border-slate-200 p-3">
        <p id={`${id}-question`} className="whitespace-pre-wrap font-medium text-slate-900">{question}</p>
        <p className="mt-1 text-xs text-slate-600">
          {where(summary)} · asked {new Date(summary.received_at).toLocaleString()}
          {summary.user_id && ` by ${summary.user_id}`} · <Link className={linkClass} to={`/tasks/${summary.id}`}>Open task</Link>
        </p>
        {edited === null ? (
          <div className="mt-2 border-l-4 border-amber-300 pl-3" aria-label="Draft answer" role="group">
            <Markdown text={answer} />
          </div>
        ) : (
          <div className="mt-2">
            <label htmlFor={`${id}-edit`} className="mb-1 block text-sm font-medium text-slate-700">Edited answer</label>
            <textarea id={`${id}-edit`} rows={Math.min(12, answer.split("\n").length + 2)} className={`${inputClass} font-mono`}
                      value={edited} onChange={(e) => setEdited(e.target.value)} />
            <p className="text-xs text-slate-600">Markdown, as Slack and Discord show it.</p>
          </div>
        )}
        <div className="mt-2 flex flex-wrap gap-2">
          {edited === null ? (
            <>
              <Button disabled={busy} onClick={() => void review("publish")}>Publish</Button>
              <Button variant="secondary" disabled={busy} onClick={() => setEdited(answer)}>Edit</Button>
              <Button variant="danger" disabled={busy} onClick={() => void review("dismiss")}>Dismiss</Button>
            </>
          ) : (
            <>
              <Button disabled={busy} onClick={() => void review("publish", edited)}>Publish edited</Button>
              <Button variant="secondary" disabled={busy} onClick={() => setEdited(null)}>Cancel</Button>
            </>
          )}
        </div>
        <ErrorNote error={error} />
      </article>
    </li>
  );
}

/** How long in words: "under a minute", "12 min", "3 h 5 min", "2 d 4 h". */
function waited(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  if (minutes < 1) return "under a minute";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

function EscalationTable({ escalations, onSettled }: {
  escalations: Escalation[]; onSettled: (id: string, words: string) => void;
}) {
  return (
    <Table>
      <caption className="sr-only">Questions handed over to a person, oldest first</caption>
      <HeadWithActions columns={["Question", "Where", "Asked by", "Waiting"]} />
      <tbody>
        {escalations.map((escalation) => (
          <EscalationRow key={escalation.id} escalation={escalation} onSettled={onSettled} />
        ))}
      </tbody>
    </Table>
  );
}

function EscalationRow({ escalation, onSettled }: { escalation: Escalation; onSettled: (id: string, words: string) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // `escalated_by` names the platform too: slack:U0123.
  const handedOverBy = escalation.escalated_by.split(":").pop();

  async function resolve() {
    setBusy(true);
    setError(null);
    try {
      const body = await api<{ already: boolean }>(`/api/tasks/${escalation.id}/resolve`, { method: "POST" });
      onSettled(escalation.id, `“${short(escalation.text)}”: ${body.already ? "it was already resolved" : "resolved"}.`);
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  }

  return (
    <tr className="border-b border-slate-100 align-top">
      <td className="max-w-md py-2 pr-3">
        <Link className={linkClass} to={`/tasks/${escalation.id}`}>{escalation.text}</Link>
        <ErrorNote error={error} />
      </td>
      <td className="py-2 pr-3">{where(escalation)}</td>
      <td className="py-2 pr-3">
        {escalation.user_id ?? "—"}
        {handedOverBy !== escalation.user_id && (
          <span className="block text-xs text-slate-600">handed over by {handedOverBy}</span>
        )}
      </td>
      <td className="whitespace-nowrap py-2 pr-3" title={`since ${new Date(escalation.escalated_at).toLocaleString()}`}>
        {waited(escalation.waiting_seconds)}
      </td>
      <td className="py-2">
        <Button variant="secondary" disabled={busy} onClick={() => void resolve()}
                aria-label={`Resolve “${short(escalation.text)}”`}>Resolve</Button>
      </td>
    </tr>
  );
}
