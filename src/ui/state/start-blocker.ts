import type { RunConfigInput } from '../../engine/config';
import type { BackendState } from '../session/session-state';
import type { InitWeights } from './init-weights';
import { toRunConfig, type FormState } from './form';

/** Why Start cannot be pressed now, in words for the button's hint; null when it can. */
export function startBlocker(o: { backend: BackendState; measuring: boolean; hasData: boolean; planError: string | null; initProblem: string | null }): string | null {
  if (o.backend.status !== 'ready') return 'waiting for the GPU backend';
  if (o.measuring) return 'measuring inference speed (or cancel it)';
  if (!o.hasData) return 'no data: see “Data” on the left';
  if (o.planError) return 'fix the compression settings first';
  if (o.initProblem) return 'the weights file does not fit this model: clear it or pick another';
  return null;
}

/** What a fresh run of the form is started with: its config, naming the weights file it starts from when one is picked. */
export function freshRun(form: FormState, initWeights: InitWeights | null, firstStepOnly: boolean): { form: FormState; config?: RunConfigInput; initWeights?: Uint8Array; firstStepOnly: boolean } {
  if (!initWeights) return { form, firstStepOnly };
  return { form, config: { ...toRunConfig(form), init: { name: initWeights.name } }, initWeights: initWeights.bytes, firstStepOnly };
}
