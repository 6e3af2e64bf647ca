import { useCallback, useEffect, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api, type Task } from "../api";
import { Markdown } from "../components/Markdown";
import { Citations, TraceTimeline } from "../components/Trace";
import { Button, Card, ErrorNote, PageHeader, StatusBadge } from "../components/ui";

export function TaskDetail() {
  const { id } = useParams();
  const [task, setTask] = useState<Task | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(() => {
    api<Task>(`/api/tasks/${id}`).then(setTask).catch(setError);
  }, [id]);
  useEffect(load, [load]);

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
            <dt className="text-slate-600">Status</dt><dd><StatusBadge status={task.status} /></dd>
            <dt className="text-slate-600">Platform</dt><dd>{task.platform} · {task.workspace}</dd>
            <dt className="text-slate-600">Kind · route</dt><dd>{task.kind} · {String(meta.route ?? "—")}</dd>
            <dt className="text-slate-600">Attempts</dt><dd>{task.attempts}</dd>
            <dt className="text-slate-600">Model</dt><dd>{String(meta.model ?? "—")}</dd>
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
            </>
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
