// The non-jsii entry point (`cdk8s-qemu-loco/tools`): the manifest validator and the Helm
// migration, which load ajv, its schema and the YAML parser, kept out of the library's root (and
// out of the jsii assembly: they use types no other language can take, such as Error subclasses).
export * from './manifest-validator';
export * from './helm-values';
