import { CASES, paritySuite } from './parity-suite';

// The engine on tfjs's CPU backend (the page's last fallback, with this project's filter-gradient kernel,
// src/cpu-kernels): the suite's richest case, with its deliberately wrong references, on the same 16 images.
const richest = CASES.find((c) => c.model === 'resnet8-tiny' && c.energyTransfer && c.bnRectification && c.weightDecayScope === undefined)!;
paritySuite('cpu', [richest]);
