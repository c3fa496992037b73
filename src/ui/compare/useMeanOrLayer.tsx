import { useState, type ReactNode } from 'react';
import { LayerSelect } from '../charts/common';

const MEAN = '';

/** A layer picker whose first entry, the default, is a mean over the layers: the chosen layer (null: the mean) and the picker. */
export function useMeanOrLayer(layers: string[], meanLabel: string): { layer: string | null; picker: ReactNode } {
  const [picked, setPicked] = useState(MEAN);
  const layer = picked !== MEAN && layers.includes(picked) ? picked : null;
  return { layer, picker: <LayerSelect layers={layers} value={layer ?? MEAN} onChange={setPicked} extra={{ value: MEAN, label: meanLabel }} /> };
}
