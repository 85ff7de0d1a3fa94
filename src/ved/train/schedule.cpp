#include "ved/train/schedule.hpp"

#include <algorithm>
#include <cmath>

namespace ved {

LrSchedule::LrSchedule(const TrainOptions& o) : o_(o) { state_.plateau_lr = o.lr; }

double LrSchedule::lr(int epoch) const {
  if (o_.schedule == "step") return o_.lr * std::pow(o_.gamma, epoch / o_.step_size);
  if (o_.schedule == "cosine") {
    const double kPi = 3.14159265358979323846;
    return o_.lr_min + (o_.lr - o_.lr_min) * 0.5 * (1.0 + std::cos(kPi * epoch / o_.epochs));
  }
  if (o_.schedule == "plateau") return state_.plateau_lr;
  return o_.lr;
}

void LrSchedule::end_epoch(double val_loss) {
  if (o_.schedule != "plateau") return;
  if (val_loss < state_.best * (1.0 - 1e-4)) {
    state_.best = val_loss;
    state_.bad_epochs = 0;
    return;
  }
  if (++state_.bad_epochs > o_.plateau_patience) {
    state_.plateau_lr = std::max(state_.plateau_lr * o_.plateau_factor, o_.lr_min);
    state_.bad_epochs = 0;
  }
}

}  // namespace ved
