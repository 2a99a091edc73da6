export * from './load-manifest';
export * from './model-error';
export type * from './model-manifest';
export * from './package-archive';
export * from './package-signature';
export * from './catalogue-signature';
export * from './scan-category';
