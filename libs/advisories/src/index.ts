export * from './cvss.js';
