import { useState } from "react";
import { Button } from "./ui";

/** A text to paste elsewhere, with a Copy button; `folded` keeps a long one closed until asked. */
export function Copyable({ label, text, folded = false }: { label: string; text: string; folded?: boolean }) {
  const [copied, setCopied] = useState<string | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied("Copied");
    } catch {
      // Browsers give pages the clipboard over HTTPS (or on localhost) only.
      setCopied("The browser refused the clipboard here: select the text and copy it");
    }
  }
  const shown = <pre className="overflow-x-auto whitespace-pre-wrap break-all rounded bg-white p-2 text-xs"><code>{text}</code></pre>;
  return (
    <div className="mb-3">
      <div className="mb-1 flex items-center gap-2 text-sm">
        <span className="font-medium text-slate-800">{label}</span>
        <Button type="button" variant="secondary" aria-label={`Copy ${label}`} onClick={() => void copy()}>Copy</Button>
        {copied && <span role="status" className="text-slate-700">{copied}</span>}
      </div>
      {folded ? <details><summary className="cursor-pointer text-xs text-slate-600">Show it</summary>{shown}</details> : shown}
    </div>
  );
}
