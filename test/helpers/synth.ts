import { Chart, Testing } from 'cdk8s';

/** A synthesized Kubernetes object, as plain JSON. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name?: string; [key: string]: any }; [key: string]: any };

/** A fresh chart in a fresh app, to build constructs in. */
export function testChart(props: { namespace?: string } = {}): Chart {
  return new Chart(Testing.app(), 'test', props);
}

/**
 * The chart's objects as they would be written to YAML, after the validations `app.synth()` runs
 * (the library's synth checks among them), failing the same way.
 */
export function synth(chart: Chart): K8sObject[] {
  const errors = chart.node.root.node.findAll().flatMap((construct) => construct.node.validate().map((error) => `[${construct.node.path}] ${error}`));
  if (errors.length > 0) {
    throw new Error(`Validation failed with the following errors:\n  ${errors.join('\n  ')}`);
  }
  return Testing.synth(chart) as K8sObject[];
}

/** All objects of a kind. */
export function ofKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((object) => object.kind === kind);
}

/** The one object of a kind; fails when there are none or several. */
export function only(objects: K8sObject[], kind: string): K8sObject {
  const matching = ofKind(objects, kind);
  if (matching.length !== 1) {
    throw new Error(`expected exactly one ${kind}, found ${matching.length}`);
  }
  return matching[0];
}

/** The pod spec of the chart's one StatefulSet. */
export function podSpec(objects: K8sObject[]): any {
  return only(objects, 'StatefulSet').spec.template.spec;
}

/** A container's env as a name -> value map (valueFrom entries map to their fieldPath). */
export function envOf(container: any): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of container.env ?? []) {
    env[entry.name] = entry.value ?? `fieldRef:${entry.valueFrom?.fieldRef?.fieldPath}`;
  }
  return env;
}
