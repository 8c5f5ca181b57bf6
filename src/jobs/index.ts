export { JobQueue, backoffMs, LEASE_EXPIRED_ERROR, type Job, type JobStatus, type EnqueueInput, type JobFilter } from './queue.js';
export {
  JobWorker,
  TransientJobError,
  LeaseLostError,
  isTransient,
  type JobHandler,
  type JobControl,
  type JobWorkerOptions,
  type JobWorkerLog,
  type WorkerStopOptions,
} from './worker.js';
export { ClusterScheduler, claimTick, type ClusterSchedulerOptions, type SchedulerStatus } from './scheduler.js';
