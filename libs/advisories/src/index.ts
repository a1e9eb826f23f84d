export * from './csaf.js';
export * from './cvss.js';
export * from './finding.js';
export * from './formats.js';
export * from './osv.js';
export * from './sarif-export.js';
export * from './sarif-import.js';
