import { CASES, paritySuite } from './parity-suite';

// The engine on tfjs's CPU backend (the page's last fallback). It is ~10× slower than WebGPU on
// lavapipe here, so it runs one case of the suite (the smallest model, without the deliberately wrong
// references, which the WebGPU suite covers), on a batch of 8 images.
const richest = CASES.find((c) => c.model === 'resnet8-tiny' && c.energyTransfer && c.bnRectification && c.weightDecayScope === undefined)!;
paritySuite('cpu', [{ ...richest, deviations: false }], 8);
