// Bucket location and location type, as GCS derives them from the insert request:
// locations are stored upper-case; US, EU and ASIA are multi-regions; the predefined
// dual-regions (NAM4, EUR4, ...) and any bucket with customPlacementConfig.dataLocations
// are dual-region; every other valid location is a region.
import { invalid } from "./errors.js";

const MULTI_REGIONS = new Set(["US", "EU", "ASIA"]);
const DUAL_REGIONS = new Set(["ASIA1", "EUR4", "EUR5", "EUR7", "EUR8", "NAM4"]);
const REGION = /^[A-Z]+(-[A-Z]+)+[0-9]+$/;

export type LocationType = "region" | "dual-region" | "multi-region";

export interface Placement {
  location: string;
  locationType: LocationType;
  dataLocations?: string[];
}

export function placement(location: string | undefined, dataLocations?: unknown): Placement {
  const loc = (location ?? "US").toUpperCase();
  if (dataLocations !== undefined) {
    if (!Array.isArray(dataLocations) || dataLocations.some((d) => typeof d !== "string")) {
      throw invalid("Invalid argument: customPlacementConfig.dataLocations must be a list.");
    }
    const regions = dataLocations.map((d: string) => d.toUpperCase());
    if (!MULTI_REGIONS.has(loc) || regions.length !== 2 || !regions.every((r) => REGION.test(r))) {
      throw invalid("The specified location constraint is not valid.");
    }
    return { location: loc, locationType: "dual-region", dataLocations: regions };
  }
  if (MULTI_REGIONS.has(loc)) return { location: loc, locationType: "multi-region" };
  if (DUAL_REGIONS.has(loc)) return { location: loc, locationType: "dual-region" };
  if (REGION.test(loc)) return { location: loc, locationType: "region" };
  throw invalid("The specified location constraint is not valid.");
}
