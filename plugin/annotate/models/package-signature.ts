// Moved to plugin/core/model-package so central/ verifies packages with the same code; kept for existing imports.
export * from '../../core/model-package/package-signature';
