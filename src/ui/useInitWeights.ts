import { useCallback, useMemo, useState } from 'react';
import { errorText } from '../engine/errors';
import type { ModelName } from '../engine/config';
import { initWeightsProblem, MAX_WEIGHTS_BYTES, type InitWeights } from './state/init-weights';

/** The weights file a run may start from ("Start from weights…"), read and checked against the model chosen now. */
export function useInitWeights(model: ModelName) {
  const [weights, setWeights] = useState<InitWeights | null>(null);
  const [readError, setReadError] = useState<string | null>(null);
  // Checked against the model chosen now: picking another model shows why the file no longer fits.
  const problem = useMemo(() => readError ?? (weights ? initWeightsProblem(weights, model) : null), [weights, readError, model]);
  const pick = useCallback((file: File) => {
    setReadError(null);
    if (file.size > MAX_WEIGHTS_BYTES) {
      setReadError(`${file.name}: ${(file.size / 2 ** 20).toFixed(0)} MB is more than any model here needs (at most ${MAX_WEIGHTS_BYTES >> 20} MB)`);
      return;
    }
    file.arrayBuffer().then(
      (b) => setWeights({ name: file.name, bytes: new Uint8Array(b) }),
      (e: unknown) => setReadError(`${file.name}: could not be read (${errorText(e)})`),
    );
  }, []);
  const clear = useCallback(() => {
    setWeights(null);
    setReadError(null);
  }, []);
  return { weights, problem, pick, clear };
}
