// The agents pages' configuration calls (docs/trinity.md): rename, tags, timeout, read-only
// mode, shared folders, sharing and credentials. Kept beside api.ts so that only the agent
// chunks load them.
import { Agent, call } from './api';

const ag = (n: string) => `/api/agents/${encodeURIComponent(n)}`;

export interface ReadOnly {
  agent_name: string; enabled: boolean; writable_dirs: string[];
  config: { blocked_patterns: string[] | null; allowed_patterns: string[] | null };
}
export interface Folders {
  expose_enabled: boolean; consume_enabled: boolean; exposed_volume: string | null; exposed_path: string;
  consumed_folders: { source_agent: string; mount_path: string; access_mode: string; currently_mounted: boolean }[];
  restart_required: boolean; message?: string;
}
export interface Share { agent_name: string; shared_with_email: string; shared_by_email: string; created_at: string }
export interface CredentialStatus {
  agent_name: string; credential_count: number;
  files: Record<string, { exists: boolean; size?: number; modified?: string }>;
}

export const agentConfig = {
  list: (tags: string[]) => call<Agent[]>('GET', `/api/agents${tags.length ? `?tags=${encodeURIComponent(tags.join(','))}` : ''}`),
  rename: (n: string, new_name: string) => call<{ new_name: string; message: string }>('PUT', `${ag(n)}/rename`, { new_name }),
  setTags: (n: string, tags: string[]) => call<{ tags: string[] }>('PUT', `${ag(n)}/tags`, { tags }),
  setTimeout: (n: string, execution_timeout_seconds: number) =>
    call<unknown>('PUT', `${ag(n)}/timeout`, { execution_timeout_seconds }),
  readOnly: (n: string) => call<ReadOnly>('GET', `${ag(n)}/read-only`),
  setReadOnly: (n: string, enabled: boolean, allowed?: string[]) =>
    call<ReadOnly & { message?: string }>('PUT', `${ag(n)}/read-only`,
      allowed ? { enabled, config: { allowed_patterns: allowed } } : { enabled }),
  folders: (n: string) => call<Folders>('GET', `${ag(n)}/folders`),
  setFolders: (n: string, req: { expose_enabled?: boolean; consume_enabled?: boolean }) =>
    call<Folders>('PUT', `${ag(n)}/folders`, req),
  available: (n: string) => call<{ available_folders: { source_agent: string; mount_path: string; source_status: string }[] }>(
    'GET', `${ag(n)}/folders/available`),
  consumers: (n: string) => call<{ consumers: { agent_name: string; mount_path: string; status: string }[] }>(
    'GET', `${ag(n)}/folders/consumers`),
  shares: (n: string) => call<Share[]>('GET', `${ag(n)}/shares`),
  share: (n: string, email: string) => call<Share>('POST', `${ag(n)}/share`, { email }),
  unshare: (n: string, email: string) => call<unknown>('DELETE', `${ag(n)}/share/${encodeURIComponent(email)}`),
  credentials: (n: string) => call<CredentialStatus>('GET', `${ag(n)}/credentials/status`),
  inject: (n: string, files: Record<string, string>) =>
    call<{ files_written: string[]; message: string }>('POST', `${ag(n)}/credentials/inject`, { files }),
  exportBundle: (n: string) =>
    call<{ files_exported: number; bundle: unknown; encrypted_file: string }>('POST', `${ag(n)}/credentials/export`),
  importBundle: (n: string, bundle?: unknown) =>
    call<{ files_imported: string[]; message: string }>('POST', `${ag(n)}/credentials/import`, bundle ? { bundle } : {}),
};
