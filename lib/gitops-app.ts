import { writeFileSync } from 'fs';
import { join } from 'path';
import { ApiObject, App, Chart, IResolver, Names, YamlOutputType } from 'cdk8s';

/** Properties of a GitOpsApp: those of a cdk8s App but its output layout, which it fixes. */
export interface GitOpsAppProps {
  /**
   * Where the charts' folders are written.
   * @default - CDK8S_OUTDIR if set, else 'dist'
   */
  readonly outdir?: string;
  /**
   * The extension of the object files.
   * @default '.k8s.yaml'
   */
  readonly outputFileExtension?: string;
  /**
   * Record each object's construct path in its metadata.
   * @default false
   */
  readonly recordConstructMetadata?: boolean;
  /**
   * Resolvers of the values of the objects, as cdk8s App's.
   * @default - none
   */
  readonly resolvers?: IResolver[];
}

/**
 * A cdk8s App whose `synth()` writes the layout GitOps tools take as it is: one folder per chart
 * (`<outdir>/<chart>/`), one file per object (`<Kind>.<name>.k8s.yaml`) and a `kustomization.yaml`
 * in each folder listing its files, so that `kubectl kustomize <outdir>/<chart>`, Argo CD and Flux
 * build the folder without further setup. See docs/gitops.md.
 *
 * @example
 * const app = new GitOpsApp();
 * new LegoLocoChart(app, 'loco-hybrid', { mode: StorageMode.hybrid(), emulator: { image: ContainerImage.fromTag('qemu-loco', 'v28') } });
 * app.synth(); // dist/loco-hybrid/{kustomization.yaml,StatefulSet.loco-emulator.k8s.yaml,...}
 */
export class GitOpsApp extends App {
  constructor(props: GitOpsAppProps = {}) {
    super({ ...props, yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
  }

  /**
   * Writes `kustomization.yaml` into each chart's folder of a plain cdk8s App synthesized with
   * `YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE` (call it after `app.synth()`; a GitOpsApp
   * does both).
   * @returns the paths of the kustomization files written, in the app's chart order
   */
  public static writeKustomizations(app: App): string[] {
    return writeKustomizations(app);
  }

  /** Synthesizes every chart into its folder, then writes each folder's kustomization.yaml. */
  public synth(): void {
    super.synth();
    writeKustomizations(this);
  }
}

/**
 * Writes `kustomization.yaml` into each chart's folder of an app synthesized with
 * `YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE` (call it after `app.synth()`; GitOpsApp does
 * both). It lists the files of the chart's own objects, sorted, so that a change to one object shows
 * as a change to its file alone; files left in the folder by an earlier synth are not listed.
 *
 * @returns the paths of the kustomization files written, in the app's chart order
 */
export function writeKustomizations(app: App): string[] {
  if (app.yamlOutputType !== YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE) {
    throw new Error(`GitOpsApp.writeKustomizations: the app writes YamlOutputType.${YamlOutputType[app.yamlOutputType]}; ` +
      'kustomization.yaml files need one folder per chart: create the App with yamlOutputType FOLDER_PER_CHART_FILE_PER_RESOURCE, or use GitOpsApp');
  }
  const charts = app.charts;
  // cdk8s numbers the folders (0000-<chart>) once any chart depends on another one, nested
  // charts included; synth() has recorded those dependencies on the charts.
  const indexed = charts.some((chart) => chart.node.dependencies.some((dependency) => dependency instanceof Chart));
  return charts.map((chart, index) => {
    const folderName = indexed ? `${String(index).padStart(4, '0')}-${Names.toDnsLabel(chart)}` : Names.toDnsLabel(chart);
    const file = join(app.outdir, folderName, 'kustomization.yaml');
    writeFileSync(file, kustomization(objectFiles(chart, app.outputFileExtension)));
    return file;
  });
}

/** The file names cdk8s gives the chart's own objects (not those of charts nested in it). */
function objectFiles(chart: Chart, extension: string): string[] {
  return chart.node.findAll()
    .filter((construct): construct is ApiObject => construct instanceof ApiObject && Chart.of(construct) === chart)
    .map((object) => `${object.kind}.${object.metadata.name}`.replace(/[^0-9a-zA-Z-_.]/g, '') + extension)
    .sort();
}

function kustomization(files: string[]): string {
  return [
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    ...(files.length === 0 ? ['resources: []'] : ['resources:', ...files.map((file) => `  - ${file}`)]),
    '',
  ].join('\n');
}
