// SPDX-License-Identifier: Apache-2.0
/**
 * Everything the session builders need, resolved by the controller beforehand. The
 * builders are pure functions of this value: same inputs, same objects.
 */
import type { AnalysisSession, DesktopProtocol } from '../api/v1alpha1/analysis-session.ts';
import type { GpuFlavour, Profile } from '../config/schema.ts';
import type { Recipe } from '../config/recipes.ts';

/** The user's POSIX identity as the pod will run. */
export interface RunAs {
  user: string;
  uid: number;
  gid: number;
  /** Supplementary gids the pod gets (already limited to what the session needs). */
  supplementalGroups: number[];
}

/** A dataset volume the pod mounts (from a DatasetMount the user may read). */
export interface DatasetVolume {
  name: string;
  claimName: string;
  mountPath: string;
  readOnly: boolean;
  /** For read-write mounts with a deadline: when they become read-only (RFC 3339). */
  writableUntil?: string;
}

export interface SessionInputs {
  session: AnalysisSession;
  profile: Profile;
  /** Set when the session requests GPUs; `gpuCount` of them. */
  flavour?: GpuFlavour;
  gpuCount: number;
  /** Quantities the pod requests, already defaulted and checked against limits. */
  cpu: string;
  memory: string;
  runAs: RunAs;
  protocol?: DesktopProtocol;
  geometry: string;
  gateway: { namespace: string; podLabels: Record<string, string> };
  egress: { mode: 'Restricted' | 'Unrestricted'; dns: boolean; allow: Array<{ cidr: string; except?: string[] }> };
  images: { guacd: string; websockify: string };
  home: { size: string; storageClassName?: string };
  datasets: DatasetVolume[];
  /** The catalogue recipe of `spec.template.recipe`, already checked against the catalogue. */
  recipe?: Recipe;
}
