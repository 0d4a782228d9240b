// Training utilities shared by the methods (re-exported from selfsup/tasks).
export { emaUpdate } from './ema-update.js';
export type { EmaUpdateOptions } from './ema-update.js';
export { trainableVariables } from './variables.js';
export type { LayerLike, LayerWeight, ModelWeights, VariableHolder } from './variables.js';
export { cosineSchedule, momentumSchedule, teacherTemperatureSchedule } from './schedules.js';
export type {
  CosineScheduleOptions,
  MomentumScheduleOptions,
  Schedule,
  TeacherTemperatureScheduleOptions,
} from './schedules.js';
export { setLearningRate } from './set-learning-rate.js';
export { MemoryBank } from './memory-bank.js';
export type { EnqueueOptions, MemoryBankOptions, MemoryBankState } from './memory-bank.js';
export { TrainingMonitor } from './training-monitor.js';
export type {
  CollapseMonitorOptions,
  DivergenceMonitorOptions,
  RecordOptions,
  TrainingMonitorOptions,
  TrainProgress,
  TrainWarning,
} from './training-monitor.js';
export { trainLoop } from './train-loop.js';
export { minimizeFinite } from './step-guard.js';
export type { MinimizeFiniteOptions, MinimizeFiniteResult, NonFinitePolicy } from './step-guard.js';
export type { StepResult, TrainBatch, TrainLoopCheckpointOptions, TrainLoopOptions, TrainLoopResult } from './train-loop.js';
export { ProgressBar, formatProgress } from './progress-bar.js';
export type { ProgressBarOptions, ProgressExtras, ProgressStream } from './progress-bar.js';
