// The admin's user calls beyond list and create (docs/accounts.md): change, delete, quota.
import { call, Me, User } from './api';

const u = (email: string) => `/users/${encodeURIComponent(email)}`;

export interface Quota { sandboxes?: number; memory_mb?: number; vcpus?: number; creates_per_minute?: number; sessions?: number }
export interface QuotaUse { sandboxes: number; memory_mb: number; vcpus: number; creates_last_minute: number; sessions: number }

export const userAdmin = {
  update: (email: string, req: Record<string, unknown>) => call<User>('PATCH', u(email), req),
  remove: (email: string) => call<unknown>('DELETE', u(email)),
  quota: (email: string) => call<Me & { quota?: Quota; usage?: QuotaUse }>('GET', `${u(email)}/quota`),
  setQuota: (email: string, q: Quota) => call<unknown>('PUT', `${u(email)}/quota`, q),
};
