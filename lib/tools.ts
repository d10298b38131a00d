/**
 * `cdk8s-qemu-loco/tools`: the parts of the package that are tools rather than constructs, kept
 * out of the jsii root (`cdk8s-qemu-loco`) because their types (unions, plain data, errors) are
 * TypeScript-only: the Kubernetes manifest validator and the migration from the Lego Loco Helm
 * chart. The CLI imports the modules directly.
 */
export { ManifestValidator } from './manifest-validator';
export type { ManifestFailure, YamlFailure } from './manifest-validator';
export { HelmValuesError, mergeHelmValues, Migration, parseHelmValues, propsFromHelmValues } from './helm-values';
export type { HelmMigration, HelmMigrationOptions, HelmValues, ParsedHelmValues } from './helm-values';
