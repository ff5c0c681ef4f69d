// Compiled with `tsc --strict` against the installed package by the check of `cargo xtask dist`,
// under each module resolution a frontend project uses (nodenext, bundler, node10). What must
// compile does; each line after a @ts-expect-error must not, which fails if the types are
// missing, `any` or `unknown`. Never shipped.
import type { components, paths } from "musicgpt-cover-mock/types";

type Json<Response> = Response extends { content: { "application/json": infer Body } }
  ? Body
  : never;

type Queued = Json<paths["/v1/Cover"]["post"]["responses"][200]>;
type Voices = Json<paths["/v1/getAllVoices"]["get"]["responses"][200]>;
type Polled = Json<paths["/v1/byId"]["get"]["responses"][200]>;

export function taskId(queued: Queued): string {
  return queued.task_id;
}

export function voiceIds(voices: Voices): string[] {
  return (voices.voices ?? []).flatMap((voice) => (voice.voice_id ? [voice.voice_id] : []));
}

export function conversion(polled: Polled): components["schemas"]["Conversion"] {
  return polled.conversion;
}

export function notANumber(queued: Queued): number {
  // @ts-expect-error task_id is a string
  return queued.task_id;
}

// @ts-expect-error the spec has no such path
export type Missing = paths["/v1/NoSuchOperation"];
