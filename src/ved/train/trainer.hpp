#pragma once
// Training a VED (docs/method.md §2, §3) from a dataset file into a run folder:
//
//   RUN/checkpoint.h5   everything needed to continue (weights, Adam moments, epoch,
//                       schedule and early-stopping state, transforms, split, options),
//                       rewritten atomically after every epoch
//   RUN/model.h5        the trained model (weights + transforms), when training ends
//   RUN/train.jsonl     one JSON object per epoch: loss terms, validation metrics, lr, time
//   RUN/summary.json    the final numbers
//
//   TrainOptions o;  o.data = "train.h5";  o.out = "run/";
//   Trainer t(o);                  // loads the data, builds the model or resumes
//   TrainSummary s = t.run();
//
// Reproducible on CPU for a seed and thread count: initial weights come from the seed,
// and each epoch's shuffle and reparameterisation noise from their own stream of it, so
// `--resume` continues bit for bit. No torch in this header.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "ved/train/train_options.hpp"

namespace ved {

struct TrainSummary {
  int epochs_done = 0;            // completed epochs (over all invocations)
  int epochs_this_run = 0;
  int epochs_total = 0;           // the run's epochs (--epochs, resolved when automatic)
  bool finished = false;          // all epochs done or stopped early; model.h5 written
  bool early_stopped = false;
  bool interrupted = false;       // stopped by --stop-after or the stop flag
  int best_epoch = 0;             // 1-based epoch with the lowest validation loss (0: none)
  double best_val_loss = 0;
  double val_rel_l2_fluct = 0;    // of the last weights trained (NaN without a validation split)
  int64_t parameters = 0;
  int64_t n_train = 0;
  double seconds = 0;             // training time of this invocation
  double samples_per_s = 0;       // training throughput of this invocation
  std::string model_path;         // RUN/model.h5 when finished
};

class Trainer {
 public:
  explicit Trainer(const TrainOptions& options);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Polled after every batch; when it becomes true, training stops after the batch and the
  // last completed epoch's checkpoint stays (e.g. set from a SIGINT handler).
  void set_stop_flag(const std::atomic<bool>* flag);
  // A one-line description of data, model and split (printed by `ved train`).
  std::string describe() const;
  TrainSummary run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Thread count actually used for `threads` (0 = all cores); sets LibTorch's intra-op pool.
int set_torch_threads(int threads);

}  // namespace ved
