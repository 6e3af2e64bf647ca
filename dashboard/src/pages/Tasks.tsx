import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { api, type TaskSummary } from "../api";
import { EmptyState, ErrorNote, PageHeader, StatusBadge, Table, inputClass } from "../components/ui";

const FILTERS = {
  status: ["received", "queued", "running", "drafted", "posted", "withheld", "failed", "skipped"],
  platform: ["web", "slack", "discord"],
  kind: ["ask", "code", "docs", "faq", "help"],
} as const;

export function Tasks() {
  const [filters, setFilters] = useState<Record<string, string>>({ status: "", platform: "", kind: "", q: "" });
  const [tasks, setTasks] = useState<TaskSummary[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const params = new URLSearchParams(Object.entries(filters).filter(([, value]) => value));
    api<{ total: number; tasks: TaskSummary[] }>(`/api/tasks?${params}`)
      .then((body) => {
        setTasks(body.tasks);
        setTotal(body.total);
      })
      .catch(setError);
  }, [filters]);

  const set = (name: string) => (value: string) => setFilters((current) => ({ ...current, [name]: value }));
  return (
    <>
      <PageHeader title="Tasks" />
      <form className="mb-4 flex flex-wrap gap-3" role="search" onSubmit={(e) => e.preventDefault()}>
        {Object.entries(FILTERS).map(([name, options]) => (
          <label key={name} className="text-sm">
            <span className="mb-1 block font-medium capitalize text-slate-700">{name}</span>
            <select className={inputClass} value={filters[name]} onChange={(e) => set(name)(e.target.value)}>
              <option value="">any</option>
              {options.map((option) => <option key={option}>{option}</option>)}
            </select>
          </label>
        ))}
        <label className="text-sm">
          <span className="mb-1 block font-medium text-slate-700">Text contains</span>
          <input className={inputClass} value={filters.q} onChange={(e) => set("q")(e.target.value)} />
        </label>
      </form>
      <ErrorNote error={error} />
      {tasks && tasks.length === 0 ? (
        <EmptyState title="No tasks match">
          Every question the bot gets becomes a task. Ask something in the <Link className="text-indigo-700 underline" to="/playground">Playground</Link> to see one here.
        </EmptyState>
      ) : (
        <>
          <p className="mb-2 text-sm text-slate-600">{total} task(s)</p>
          <Table className="bg-white shadow-sm">
            <thead>
              <tr className="border-b border-slate-200 text-slate-600">
                {["Received", "Message", "Platform", "Kind", "Status", "Time"].map((column) => (
                  <th key={column} scope="col" className="whitespace-nowrap p-2">{column}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {tasks?.map((task) => (
                <tr key={task.id} className="border-b border-slate-100">
                  <td className="whitespace-nowrap p-2">{new Date(task.received_at).toLocaleString()}</td>
                  <td className="max-w-md truncate p-2">
                    <Link className="text-indigo-700 underline" to={`/tasks/${task.id}`}>{task.text}</Link>
                  </td>
                  <td className="p-2">{task.platform}</td>
                  <td className="p-2">{task.kind}</td>
                  <td className="p-2"><StatusBadge status={task.status} /></td>
                  <td className="whitespace-nowrap p-2 tabular-nums">{task.seconds != null ? `${task.seconds.toFixed(2)} s` : "—"}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        </>
      )}
    </>
  );
}
