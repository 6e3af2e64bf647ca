import { useEffect, useState } from "react";
import { api } from "../api";
import { inputClass } from "./ui";

/** A select of the hub's workspaces; the knowledge, FAQs and playground pages each work in one. */
export function WorkspacePicker({ value, onChange }: { value: string; onChange: (name: string) => void }) {
  const [names, setNames] = useState<string[]>([value]);
  useEffect(() => {
    api<{ workspaces: { name: string }[] }>("/api/workspaces")
      .then((body) => setNames(body.workspaces.map((w) => w.name)))
      .catch(() => setNames([value]));
  }, [value]);
  return (
    <label className="flex items-center gap-2 text-sm">
      <span className="font-medium text-slate-700">Workspace</span>
      <select className={`${inputClass} w-auto`} value={value} onChange={(e) => onChange(e.target.value)}>
        {names.map((name) => <option key={name}>{name}</option>)}
      </select>
    </label>
  );
}
