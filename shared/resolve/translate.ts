// Translation of the checked snake_case queue spec/run into the v1 CustomJob the Node
// client takes: camelCase protobufjs field names, enums by NAME, Durations as
// `{seconds}`. Every field is mapped explicitly (the client silently drops snake_case
// keys), and proto3 default values (false, 0, "", UNSPECIFIED) are left out so that the
// object survives an encode/decode round trip unchanged.
import {
  isEmptyPool,
  type PoolSlot,
  type Run,
  type Spec,
  type WorkerPoolSpec,
} from "../schemas/queue_config.js";
import type { EnvVar } from "./env.js";

export type ProtoObject = Record<string, unknown>;

/** What the resolver computed beside spec/run. */
export interface TranslateInput {
  spec: Spec;
  run: Run;
  displayName: string;
  labels: Record<string, string>;
  serviceAccount: string;
  baseOutputDirectory: string;
  /** Final env of each pool's container, by pool index. */
  env: EnvVar[][];
  /**
   * The message's entry_point (replaces command in every pool) and args (come first in
   * every pool's args, before the queue's own: entry point + launch args + queue args is
   * the argv the W&B agent runs).
   */
  command?: string[] | undefined;
  args?: string[] | undefined;
  /** Full resource names (the resolver expands bare experiment names). */
  experiment?: string | undefined;
  experimentRun?: string | undefined;
}

function duration(seconds: number): { seconds: number } {
  return { seconds };
}

function machineSpec(ms: WorkerPoolSpec["machine_spec"]): ProtoObject {
  const out: ProtoObject = { machineType: ms.machine_type };
  if (ms.accelerator_type !== undefined && ms.accelerator_type !== "ACCELERATOR_TYPE_UNSPECIFIED") {
    out.acceleratorType = ms.accelerator_type;
  }
  if (ms.accelerator_count) out.acceleratorCount = ms.accelerator_count;
  if (ms.gpu_partition_size !== undefined) out.gpuPartitionSize = ms.gpu_partition_size;
  if (ms.tpu_topology !== undefined) out.tpuTopology = ms.tpu_topology;
  const ra = ms.reservation_affinity;
  if (ra !== undefined) {
    const r: ProtoObject = { reservationAffinityType: ra.reservation_affinity_type };
    if (ra.key !== undefined) r.key = ra.key;
    if (ra.values?.length) r.values = [...ra.values];
    out.reservationAffinity = r;
  }
  return out;
}

function envList(env: EnvVar[]): ProtoObject[] {
  return env.map((v) => ({ name: v.name, value: v.value }));
}

/** The launch's args, then the pool's own (SPEC §4: queue args are never lost). */
function argsOf(launchArgs: string[] | undefined, poolArgs: string[] | undefined): string[] {
  return [...(launchArgs ?? []), ...(poolArgs ?? [])];
}

function workerPool(slot: PoolSlot, input: TranslateInput, i: number): ProtoObject {
  // A `{}` placeholder after the first pool is sent as an empty WorkerPoolSpec.
  if (isEmptyPool(slot)) return {};
  const pool: WorkerPoolSpec = slot;
  const out: ProtoObject = {
    machineSpec: machineSpec(pool.machine_spec),
    replicaCount: pool.replica_count ?? 1,
  };
  const disk = pool.disk_spec;
  if (disk && (disk.boot_disk_type !== undefined || disk.boot_disk_size_gb !== undefined)) {
    const d: ProtoObject = {};
    if (disk.boot_disk_type !== undefined) d.bootDiskType = disk.boot_disk_type;
    if (disk.boot_disk_size_gb !== undefined) d.bootDiskSizeGb = disk.boot_disk_size_gb;
    out.diskSpec = d;
  }
  if (pool.nfs_mounts?.length) {
    out.nfsMounts = pool.nfs_mounts.map((m) => ({
      server: m.server,
      path: m.path,
      mountPoint: m.mount_point,
    }));
  }
  const env = input.env[i] ?? [];
  if (pool.container_spec) {
    const c = pool.container_spec;
    const command = input.command ?? c.command;
    const args = argsOf(input.args, c.args);
    const cs: ProtoObject = { imageUri: c.image_uri };
    if (command?.length) cs.command = [...command];
    if (args.length) cs.args = args;
    if (env.length) cs.env = envList(env);
    out.containerSpec = cs;
  } else if (pool.python_package_spec) {
    const p = pool.python_package_spec;
    const args = argsOf(input.args, p.args);
    const ps: ProtoObject = {
      executorImageUri: p.executor_image_uri,
      packageUris: [...p.package_uris],
      pythonModule: p.python_module,
    };
    if (args.length) ps.args = args;
    if (env.length) ps.env = envList(env);
    out.pythonPackageSpec = ps;
  }
  return out;
}

function scheduling(run: Run): ProtoObject | undefined {
  const s: ProtoObject = {};
  if (run.timeout !== undefined) s.timeout = duration(run.timeout);
  if (run.restart_job_on_worker_restart) s.restartJobOnWorkerRestart = true;
  if (run.scheduling_strategy !== undefined) s.strategy = run.scheduling_strategy;
  if (run.disable_retries) s.disableRetries = true;
  // 0 is meaningful (custom_job.proto: wait indefinitely), so the key is sent whenever it is set.
  if (run.max_wait_duration !== undefined) s.maxWaitDuration = duration(run.max_wait_duration);
  return Object.keys(s).length ? s : undefined;
}

/** The `customJob` of a CreateCustomJobRequest. */
export function translateCustomJob(input: TranslateInput): ProtoObject {
  const { spec, run } = input;
  const jobSpec: ProtoObject = {
    workerPoolSpecs: spec.worker_pool_specs.map((pool, i) => workerPool(pool, input, i)),
  };
  const sched = scheduling(run);
  if (sched) jobSpec.scheduling = sched;
  jobSpec.serviceAccount = input.serviceAccount;
  if (run.network !== undefined) jobSpec.network = run.network;
  if (run.reserved_ip_ranges?.length) jobSpec.reservedIpRanges = [...run.reserved_ip_ranges];
  jobSpec.baseOutputDirectory = { outputUriPrefix: input.baseOutputDirectory };
  if (run.tensorboard !== undefined) jobSpec.tensorboard = run.tensorboard;
  if (run.enable_web_access) jobSpec.enableWebAccess = true;
  if (run.enable_dashboard_access) jobSpec.enableDashboardAccess = true;
  if (input.experiment !== undefined) jobSpec.experiment = input.experiment;
  if (input.experimentRun !== undefined) jobSpec.experimentRun = input.experimentRun;
  if (run.persistent_resource_id !== undefined)
    jobSpec.persistentResourceId = run.persistent_resource_id;

  const customJob: ProtoObject = {
    displayName: input.displayName,
    jobSpec,
    labels: { ...input.labels },
  };
  if (spec.encryption_spec_key_name !== undefined) {
    customJob.encryptionSpec = { kmsKeyName: spec.encryption_spec_key_name };
  }
  return customJob;
}
