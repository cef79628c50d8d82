// The v1 proto enum names the product sends, kept small and explicit here so that no
// code path loads the 4 MB protos.json to validate a name. test/unit/proto_roundtrip.test.ts
// ("the enum lists in code match the shipped protos") checks these lists against the
// protos shipped in @google-cloud/aiplatform.

/** google.cloud.aiplatform.v1.AcceleratorType (accelerator_type.proto), every value. */
export const ACCELERATOR_TYPES = [
  "ACCELERATOR_TYPE_UNSPECIFIED",
  "NVIDIA_TESLA_K80",
  "NVIDIA_TESLA_P100",
  "NVIDIA_TESLA_V100",
  "NVIDIA_TESLA_P4",
  "NVIDIA_TESLA_T4",
  "NVIDIA_TESLA_A100",
  "NVIDIA_A100_80GB",
  "NVIDIA_L4",
  "NVIDIA_H100_80GB",
  "NVIDIA_H100_MEGA_80GB",
  "NVIDIA_H200_141GB",
  "NVIDIA_B200",
  "NVIDIA_GB200",
  "NVIDIA_RTX_PRO_6000",
  "TPU_V2",
  "TPU_V3",
  "TPU_V4_POD",
  "TPU_V5_LITEPOD",
] as const;
export type AcceleratorType = (typeof ACCELERATOR_TYPES)[number];

/** google.cloud.aiplatform.v1.Scheduling.Strategy (custom_job.proto), every value. */
export const SCHEDULING_STRATEGY_ENUM = [
  "STRATEGY_UNSPECIFIED",
  "ON_DEMAND",
  "LOW_COST",
  "STANDARD",
  "SPOT",
  "FLEX_START",
] as const;

/** The strategies a queue may ask for (SPEC §3); ON_DEMAND and LOW_COST are deprecated in the proto. */
export const SCHEDULING_STRATEGIES = ["STANDARD", "SPOT", "FLEX_START"] as const;
export type SchedulingStrategy = (typeof SCHEDULING_STRATEGIES)[number];

/** google.cloud.aiplatform.v1.ReservationAffinity.Type (reservation_affinity.proto), every value. */
export const RESERVATION_AFFINITY_TYPE_ENUM = [
  "TYPE_UNSPECIFIED",
  "NO_RESERVATION",
  "ANY_RESERVATION",
  "SPECIFIC_RESERVATION",
] as const;

/** The reservation affinity types a queue may ask for; the proto says TYPE_UNSPECIFIED "should not be used". */
export const RESERVATION_AFFINITY_TYPES = [
  "NO_RESERVATION",
  "ANY_RESERVATION",
  "SPECIFIC_RESERVATION",
] as const;
export type ReservationAffinityType = (typeof RESERVATION_AFFINITY_TYPES)[number];

/** The `key` that targets a SPECIFIC_RESERVATION by name (reservation_affinity.proto). */
export const RESERVATION_NAME_KEY = "compute.googleapis.com/reservation-name";
