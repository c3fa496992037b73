import { useCallback, useEffect, useState } from 'react';
import type { BackendPreference } from '../worker/protocol';
import { presetById, type FormState } from './state/form';
import { formFromSearch, formToSearch, PAGE_KEYS } from './state/url';

/** What the page's address says: the setup (on top of the quick preset), what had to be adjusted, the backend and kernels. */
export interface PageUrl {
  form: FormState;
  notes: string[];
  preference: BackendPreference;
  kernels: 'fast' | 'stock';
}

export function readPageUrl(search: string): PageUrl {
  const params = new URLSearchParams(search);
  const b = params.get('backend');
  const { form, notes } = formFromSearch(search, presetById('quick').form);
  return {
    form,
    notes,
    preference: b === 'webgpu' || b === 'webgl' || b === 'cpu' ? b : 'auto',
    kernels: params.get('kernels') === 'stock' ? 'stock' : 'fast',
  };
}

/** The page's own keys of `search` (backend, kernels) after the whole form: the link reproduces the setup. */
export function linkFor(form: FormState, search: string): string {
  const params = new URLSearchParams(search);
  const keep = new URLSearchParams();
  for (const k of PAGE_KEYS) {
    const v = params.get(k);
    if (v !== null) keep.set(k, v);
  }
  const own = keep.toString();
  return `?${formToSearch(form)}${own ? `&${own}` : ''}`;
}

/** The address bar always holds the current setup (replaceState: no history entry per slider move). */
export function useUrlSync(form: FormState): void {
  useEffect(() => {
    const t = setTimeout(() => history.replaceState(null, '', linkFor(form, location.search)), 150);
    return () => clearTimeout(t);
  }, [form]);
}

/** Copies a link to the setup; the note says whether it worked. */
export function useShareLink(form: FormState): { share: () => void; note: string | null } {
  const [note, setNote] = useState<string | null>(null);
  const share = useCallback(() => {
    const link = new URL(linkFor(form, location.search), location.href).href;
    Promise.resolve()
      .then(() => navigator.clipboard.writeText(link))
      .then(
      () => setNote('link copied'),
      () => setNote('copy the address bar: it holds the whole setup'),
    );
  }, [form]);
  return { share, note };
}
