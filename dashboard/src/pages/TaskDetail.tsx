import { useCallback, useEffect, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api, FINISHED, follow, type Task } from "../api";
import { Markdown } from "../components/Markdown";
import { ProposeButton } from "../components/Proposals";
import { Citations, TraceTimeline } from "../components/Trace";
import { Button, Card, ErrorNote, PageHeader, StatusBadge } from "../components/ui";

export function TaskDetail() {
  const { id } = useParams();
  const [task, setTask] = useState<Task | null>(null);
  const [error, setError] = useState<unknown>(null);

  // While the task runs: its status, what the agent is doing, and the answer as it is written.
  const [live, setLive] = useState<{ status: string | null; doing: string | null; text: string }>(
    { status: null, doing: null, text: "" });

  const load = useCallback(() => {
    api<Task>(`/api/tasks/${id}`).then(setTask).catch(setError);
  }, [id]);
  useEffect(load, [load]);

  const running = task !== null && !FINISHED.includes(task.status);
  useEffect(() => {
    if (!running || !id) return;
    const leaving = new AbortController();
    setLive({ status: null, doing: null, text: "" });
    follow(id, {
      onTask: (status) => setLive((now) => ({ ...now, status })),
      onStatus: (doing) => setLive((now) => ({ ...now, doing })),
      onText: (piece) => setLive((now) => ({ ...now, text: now.text + piece })),
    }, leaving.signal).then(load, () => {
      if (!leaving.signal.aborted) load(); // no live events here: show where it stands now
    });
    return () => leaving.abort();
  }, [running, id, load]);

  async function retry() {
    try {
      await api(`/api/tasks/${id}/retry`, { method: "POST" });
      load();
    } catch (caught) {
      setError(caught);
    }
  }

  if (!task) return <><ErrorNote error={error} /><p>Loading…</p></>;
  const meta = task.reply?.metadata ?? {};
  return (
    <>
      <PageHeader title="Task">
        <Link to="/tasks" className="text-sm text-indigo-700 underline">All tasks</Link>
        {task.status === "failed" && <Button onClick={() => void retry()}>Retry</Button>}
      </PageHeader>
      <ErrorNote error={error} />
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Message">
          <p className="whitespace-pre-wrap">{task.text}</p>
          <dl className="mt-3 grid grid-cols-[8rem_1fr] gap-1 text-sm">
            <dt className="text-slate-600">Status</dt><dd><StatusBadge status={running ? live.status ?? task.status : task.status} /></dd>
            <dt className="text-slate-600">Platform</dt><dd>{task.platform} · {task.workspace}</dd>
            <dt className="text-slate-600">Kind · route</dt><dd>{task.kind} · {String(meta.route ?? "—")}</dd>
            <dt className="text-slate-600">Attempts</dt><dd>{task.attempts}</dd>
            <dt className="text-slate-600">Model</dt><dd>{String(meta.model ?? "—")}</dd>
            <dt className="text-slate-600">Confidence</dt><dd><Confidence meta={meta} /></dd>
            <dt className="text-slate-600">Tokens · cost</dt>
            <dd>{task.tokens.prompt + task.tokens.completion} · {task.cost_usd != null ? `$${task.cost_usd.toFixed(4)}` : "—"}</dd>
            <dt className="text-slate-600">Trace id</dt><dd className="font-mono text-xs">{task.trace_id}</dd>
          </dl>
          {task.error && <p className="mt-3 text-sm text-red-800">{task.error}</p>}
        </Card>
        <Card title="Reply">
          {task.reply ? (
            <>
              <Markdown text={task.reply.text} />
              <Citations citations={task.reply.citations} />
              {meta.route === "docs" && !task.reply.is_error && (
                <div className="mt-3 border-t border-slate-100 pt-3">
                  <ProposeButton kind="doc" body={{ task_id: task.id }} />
                  <p className="mt-1 text-xs text-slate-600">A new page in the docs repository's docs folder, as a pull request.</p>
                </div>
              )}
            </>
          ) : running ? (
            <div aria-live="polite" aria-label="Answer so far">
              <p className="text-sm text-slate-600">{live.doing ?? `No reply yet: the task is ${live.status ?? task.status}.`}</p>
              {live.text && <Markdown text={live.text} />}
            </div>
          ) : (
            <p className="text-sm text-slate-600">No reply yet: the task is {task.status}.</p>
          )}
        </Card>
        <Card title="Trace" className="lg:col-span-2">
          <TraceTimeline steps={task.steps} />
        </Card>
      </div>
    </>
  );
}

/** How likely the passages found answer the question (agents/confidence.py), against the
 * threshold below which the hub says it is not sure rather than answer. */
export function Confidence({ meta }: { meta: Record<string, unknown> }) {
  if (typeof meta.confidence !== "number") return <>—</>;
  const score = meta.confidence.toFixed(2);
  if (typeof meta.threshold !== "number") return <>{score}</>; // an approved FAQ's match, or no search
  const unsure = meta.abstained === true;
  return (
    <span title={`Below ${meta.threshold.toFixed(2)} the hub says it is not sure and shows what it found`}>
      {score}{" "}
      <span className={`inline-block rounded px-2 py-0.5 text-xs font-medium ${
        unsure ? "bg-amber-100 text-amber-900" : "bg-green-100 text-green-900"}`}>
        {unsure ? "not sure" : "answered"}
      </span>{" "}
      <span className="text-xs text-slate-600">answers at ≥ {meta.threshold.toFixed(2)}</span>
    </span>
  );
}
