// Types of scripts/layers.mjs (a plain module: eslint.config.mjs loads it without tsx).
export const ROOT: string;
export const LAYERS: Record<string, string[]>;
export function layerOf(path: string): string | undefined;
export function layerViolation(file: string, specifier: string, typeOnly: boolean): string | undefined;
export const layersPlugin: { rules: Record<string, unknown> };
