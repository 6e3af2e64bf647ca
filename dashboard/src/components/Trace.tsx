import type { Citation, Step } from "../api";

/** The agent's run as a timeline: each graph node as a bar offset by when it started. */
export function TraceTimeline({ steps }: { steps: Step[] }) {
  if (steps.length === 0) {
    return <p className="text-sm text-slate-600">No trace yet: the trace appears once a worker has run the task.</p>;
  }
  const total = steps.reduce((sum, step) => sum + step.ms, 0) || 1;
  let start = 0;
  return (
    <ol aria-label="Trace" className="space-y-2">
      {steps.map((step, index) => {
        const left = (start / total) * 100;
        start += step.ms;
        return (
          <li key={index} className="grid grid-cols-[8rem_1fr_5rem] items-center gap-3 text-sm">
            <span className="font-mono text-slate-800">{step.node}</span>
            <span className="relative h-3 rounded bg-slate-100" aria-hidden="true">
              <span
                className="absolute h-3 rounded bg-indigo-600"
                style={{ left: `${left}%`, width: `${Math.max((step.ms / total) * 100, 0.5)}%` }}
              />
            </span>
            <span className="text-right tabular-nums text-slate-700">{step.ms.toFixed(1)} ms</span>
          </li>
        );
      })}
      <li className="text-right text-sm font-medium text-slate-800">total {total.toFixed(1)} ms</li>
    </ol>
  );
}

export function Citations({ citations }: { citations: Citation[] }) {
  if (citations.length === 0) return null;
  return (
    <ol aria-label="Sources" className="mt-3 space-y-1 border-t border-slate-200 pt-2 text-sm">
      {citations.map((citation, index) => (
        <li key={index}>
          <span className="font-medium">[{index + 1}] {citation.title}</span>{" "}
          <span className="text-slate-600">— {citation.location}</span>
        </li>
      ))}
    </ol>
  );
}
