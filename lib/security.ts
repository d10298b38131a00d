import { k8s } from 'cdk8s-plus-28';

/**
 * The container security context of every helper container (seeder, tools, stage, wait, reset):
 * Pod Security "restricted" for a non-root user; for root (a hostPath volume, the reset of root's
 * overlays) the same with every capability dropped, which is "baseline".
 */
export function lockedDownSecurityContext(runAsUser: number): k8s.SecurityContext {
  return {
    runAsNonRoot: runAsUser !== 0,
    runAsUser,
    // Without it the process runs with gid 0 (an image without a user entry); the fsGroup
    // supplementary group is what gives it the volume.
    runAsGroup: runAsUser,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
