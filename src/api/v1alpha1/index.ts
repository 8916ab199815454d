// SPDX-License-Identifier: Apache-2.0
export * from './group.ts';
export * from './analysis-session.ts';
export * from './dataset-mount.ts';
export * from './resource-quota.ts';
export * from './usage-record.ts';
export * from './kinds.ts';
export * from './schema-helpers.ts';
