export const MIN_NODE_MAJOR: number;
export const MIN_MESA_MAJOR: number;
export const DEFAULT_CHROMIUM: string;
export const LAVAPIPE_ICD: string;
export const BACKPORTS_FILE: string;
export const SCRIPT: string;

export interface OsRelease {
  id: string;
  like: string[];
  codename: string | null;
  version: string | null;
  pretty: string;
}
export interface AptSource {
  path: string;
  text: string;
}
export type BackportsResult = { configured: true } | { configured: false; source: AptSource } | { configured: false; source: null; problem: string };
export type RequirementId = 'node' | 'chromium' | 'mesa' | 'python' | 'numpy' | 'torch' | 'jsonschema';
export interface Facts {
  node: string;
  os: OsRelease;
  root: boolean;
  apt: boolean;
  sudo: boolean;
  chromium: { path: string; fromEnv: boolean; ok: boolean };
  vulkan: { override: string | null; nvidia: boolean; lavapipe: boolean; mesa: string | null; dpkg: boolean };
  python: { path: string; rule: string; fromEnv: boolean; runs: boolean; numpy: string | null; torch: string | null; jsonschema: string | null; onnx: string | null; error: string | null };
  backports: BackportsResult | null;
  attempted?: RequirementId[];
}
export interface Missing {
  id: RequirementId;
  what: string;
}
export interface InstallPlan {
  sources: AptSource[];
  release: string[];
  backports: { suite: string; packages: string[] } | null;
}
export type Plan =
  | { action: 'ok'; missing: [] }
  | { action: 'install'; missing: Missing[]; install: InstallPlan }
  | { action: 'stop'; missing: Missing[]; message: string };

export function parseOsRelease(text: string): OsRelease;
export function majorVersion(version: string | null | undefined): number | null;
export function backportsSource(codename: string, files: AptSource[]): BackportsResult;
export function missingRequirements(facts: Facts): Missing[];
export function planSystem(facts: Facts): Plan;
export function aptCommands(install: InstallPlan): string[];
export function aptSourceFiles(etc?: string): AptSource[];
export function gatherFacts(env?: NodeJS.ProcessEnv, attempted?: RequirementId[]): Facts;
