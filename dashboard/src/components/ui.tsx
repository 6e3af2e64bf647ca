import type { ReactNode } from "react";

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="mb-6 flex flex-wrap items-center justify-between gap-3">
      <h1 className="text-2xl font-semibold text-slate-900">{title}</h1>
      <div className="flex gap-2">{children}</div>
    </header>
  );
}

export function Card({ title, children, className = "" }: { title?: string; children: ReactNode; className?: string }) {
  return (
    <section className={`rounded-lg border border-slate-200 bg-white p-4 shadow-sm ${className}`} aria-label={title}>
      {title && <h2 className="mb-3 text-sm font-semibold uppercase tracking-wide text-slate-600">{title}</h2>}
      {children}
    </section>
  );
}

/** What a newcomer sees where there is nothing yet: what it is, and what to do next. */
export function EmptyState({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="rounded-lg border-2 border-dashed border-slate-300 bg-white p-8 text-center" role="status">
      <p className="text-lg font-medium text-slate-800">{title}</p>
      <div className="mt-2 text-slate-600">{children}</div>
    </div>
  );
}

const STATUS_COLOURS: Record<string, string> = {
  posted: "bg-green-100 text-green-900",
  ready: "bg-green-100 text-green-900",
  finished: "bg-green-100 text-green-900",
  approved: "bg-green-100 text-green-900",
  ok: "bg-green-100 text-green-900",
  connected: "bg-green-100 text-green-900",
  active: "bg-green-100 text-green-900",
  skipped: "bg-slate-200 text-slate-900",
  withheld: "bg-slate-200 text-slate-900",
  revoked: "bg-slate-200 text-slate-900",
  failed: "bg-red-100 text-red-900",
  rejected: "bg-red-100 text-red-900",
  error: "bg-red-100 text-red-900",
  draft: "bg-amber-100 text-amber-900",
  drafted: "bg-amber-100 text-amber-900",
};

/** A table that scrolls sideways inside its card when the window is narrower than its columns,
 *  rather than pushing the page wider than the window. Relative: a screen-reader-only heading
 *  (absolutely positioned) otherwise escapes the scrolling box and widens the page anyway. */
export function Table({ children, className = "" }: { children: ReactNode; className?: string }) {
  return (
    <div className="relative overflow-x-auto">
      <table className={`w-full text-left text-sm ${className}`}>{children}</table>
    </div>
  );
}

/** A table's column headings, then one for the buttons each row ends with. */
export function HeadWithActions({ columns }: { columns: string[] }) {
  return (
    <thead>
      <tr className="border-b border-slate-200 text-slate-600">
        {columns.map((column) => <th key={column} scope="col" className="whitespace-nowrap py-2 pr-3">{column}</th>)}
        <th scope="col" className="py-2"><span className="sr-only">Actions</span></th>
      </tr>
    </thead>
  );
}

export function StatusBadge({ status }: { status: string }) {
  const colour = STATUS_COLOURS[status] ?? "bg-blue-100 text-blue-900";
  return <span className={`inline-block rounded px-2 py-0.5 text-xs font-medium ${colour}`}>{status}</span>;
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p role="alert" className="my-3 rounded border border-red-300 bg-red-50 p-3 text-sm text-red-900">
      {error instanceof Error ? error.message : String(error)}
    </p>
  );
}

type ButtonProps = React.ButtonHTMLAttributes<HTMLButtonElement> & { variant?: "primary" | "secondary" | "danger" };

export function Button({ variant = "primary", className = "", ...props }: ButtonProps) {
  const look = {
    primary: "bg-indigo-700 text-white hover:bg-indigo-800",
    secondary: "border border-slate-300 bg-white text-slate-800 hover:bg-slate-100",
    danger: "bg-red-700 text-white hover:bg-red-800",
  }[variant];
  return (
    <button
      className={`rounded px-3 py-1.5 text-sm font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 disabled:opacity-50 ${look} ${className}`}
      {...props}
    />
  );
}

export const inputClass =
  "w-full rounded border border-slate-300 px-3 py-2 text-sm focus:border-indigo-600 focus:outline-none focus:ring-2 focus:ring-indigo-500";

export function Field({ label, id, children }: { label: string; id: string; children: ReactNode }) {
  return (
    <div className="mb-3">
      <label htmlFor={id} className="mb-1 block text-sm font-medium text-slate-700">
        {label}
      </label>
      {children}
    </div>
  );
}
