import { CASES, paritySuite } from './parity-suite';

// The engine on tfjs's WebGPU backend through Dawn (Mesa's lavapipe where there is no GPU) with this
// project's fast training kernels: what the CLI and the page use.
paritySuite('webgpu', CASES);
