// The package's public entry: `import { ... } from 'dual-ipo'`.
export * from './core/index';
