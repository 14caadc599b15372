/** The inventory formats fleetpatch reads, and which of them are OS package databases. */

export const INVENTORY_FORMATS = ['dpkg-status', 'rpm', 'apk', 'cyclonedx', 'spdx', 'npm-lock', 'pipfile-lock', 'go-mod'] as const;

export type InventoryFormat = (typeof INVENTORY_FORMATS)[number];

/** Formats whose records carry no distribution: the caller must say which release they come from. */
export const OS_FORMATS: ReadonlySet<InventoryFormat> = new Set(['dpkg-status', 'rpm', 'apk']);
