#pragma once
// Learning-rate schedules, per epoch (torch-free; LibTorch 1.13 ships only StepLR):
//   constant: lr
//   step:     lr · γ^⌊epoch / step_size⌋
//   cosine:   lr_min + (lr − lr_min) · ½ (1 + cos(π · epoch / epochs))   (PyTorch CosineAnnealingLR)
//   plateau:  lr, multiplied by factor (not below lr_min) after more than `patience` epochs
//             without a relative improvement of 1e-4 in the validation loss (ReduceLROnPlateau)
//
//   LrSchedule s(options);
//   for (int e = 0; e < epochs; ++e) { opt.set_lr(s.lr(e)); ...; s.end_epoch(val_loss); }
#include <limits>

#include "ved/train/train_options.hpp"

namespace ved {

struct ScheduleState {  // what a checkpoint must keep (plateau only)
  double plateau_lr = 0;
  double best = std::numeric_limits<double>::infinity();
  int bad_epochs = 0;
};

class LrSchedule {
 public:
  explicit LrSchedule(const TrainOptions& o);
  double lr(int epoch) const;        // learning rate for 0-based `epoch`
  void end_epoch(double val_loss);   // plateau bookkeeping; no-op for the others
  const ScheduleState& state() const { return state_; }
  void set_state(const ScheduleState& s) { state_ = s; }

 private:
  TrainOptions o_;
  ScheduleState state_;
};

}  // namespace ved
