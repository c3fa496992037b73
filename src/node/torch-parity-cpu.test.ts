import { CASES, paritySuite } from './parity-suite';

// The engine on tfjs's CPU backend (the page's last fallback). It is ~10× slower than WebGPU on
// lavapipe here, so it runs one case of the suite, on a batch of 16 images.
paritySuite('cpu', CASES.filter((c) => c.model === 'vgg-tiny' && c.energyTransfer && c.bnRectification), 16);
