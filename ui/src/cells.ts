// The view of a code cell that a streamed execution builds (POST /kernels/{id}/execute/stream,
// docs/kernels.md): outputs as they come, then the result.

import type { CellOutput, CellResult } from './api';

export interface CellView { outputs: CellOutput[]; result?: CellResult; error?: string }

/** applyCellEvent folds one server-sent event into the view, returning a new view: an output
 * (text of the same stream joined to the last one, so a print cut in two reads as one block),
 * the result at the end ("done"), or the error that ended the stream. */
export function applyCellEvent(v: CellView, event: string, data: string): CellView {
  let d: unknown;
  try { d = JSON.parse(data); } catch { return v; }
  switch (event) {
    case 'output': {
      const o = d as CellOutput;
      const outputs = [...v.outputs];
      const last = outputs[outputs.length - 1];
      if (o.kind === 'stream' && last && last.kind === 'stream' && last.name === o.name) {
        outputs[outputs.length - 1] = { ...last, text: (last.text || '') + (o.text || '') };
      } else outputs.push(o);
      return { ...v, outputs };
    }
    case 'done': return { ...v, result: d as CellResult };
    case 'error': return { ...v, error: (d as { message?: string }).message || 'the execution failed' };
    default: return v;
  }
}
