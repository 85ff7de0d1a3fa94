// ved train: fit a VED to a dataset file; writes RUN/{model.h5, checkpoint.h5, train.jsonl,
// summary.json, options.json}.
//
//   ved train --data train.h5 --mesh hanford --latent 50 --out run/
//   ved train --data train.h5 --mesh hanford --latent 50 --out run/ --resume   # after a stop
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>  // setenv

#include <unistd.h>  // write (async-signal-safe)

#include "commands.hpp"
#include "ved/train/trainer.hpp"
#include "ved/util/error.hpp"
#include "ved/util/mpi.hpp"

// OpenMP threads that wait by spinning (libgomp's default here) make multi-threaded
// training collapse when the cores are shared: at 2 threads on a 2-core machine with other
// work running, a step took 1.2 s instead of 0.07 s with passive waiting. libgomp reads
// OMP_WAIT_POLICY when it is loaded, before main(), so the default is set from the
// executable's .preinit_array, which runs before any library initialiser. A value the
// user set is kept.
namespace {
void prefer_passive_openmp_wait(int, char**, char**) { setenv("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/0); }
__attribute__((section(".preinit_array"), used)) void (*const prefer_passive_openmp_wait_entry)(int, char**, char**) =
    prefer_passive_openmp_wait;
}  // namespace

namespace ved::app {
namespace {

struct TrainCli {
  TrainOptions train;
  // List options as text ("16,32,64"), so a TOML array and a flag replace each other
  // instead of accumulating.
  std::string stages = format_int_list(ModelConfig{}.stages);
  std::string encoder_hidden = format_int_list(ModelConfig{}.encoder_hidden);
  std::string decoder_hidden = format_int_list(ModelConfig{}.decoder_hidden);
};

std::atomic<bool> g_stop{false};
void (*g_previous_int)(int) = SIG_DFL;
void (*g_previous_term)(int) = SIG_DFL;

// First signal: stop after the batch. A second one: the previous handler (main's, which
// removes temporaries and exits), for a user who does not want to wait.
extern "C" void on_sigint(int sig) {
  if (g_stop) {
    std::signal(sig, sig == SIGINT ? g_previous_int : g_previous_term);
    std::raise(sig);
    return;
  }
  g_stop = true;
  const char msg[] = "\nstopping after this batch (the last epoch's checkpoint is kept); again to abort\n";
  ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)ignored;
}

void run_train(TrainCli& cli) {
  TrainOptions& o = cli.train;
  o.model.stages = parse_int_list(cli.stages, "--encoder-stages");
  o.model.encoder_hidden = parse_int_list(cli.encoder_hidden, "--encoder-hidden");
  o.model.decoder_hidden = parse_int_list(cli.decoder_hidden, "--decoder-hidden");
  Trainer trainer(o);
  // Under mpirun every rank trains its shard; rank 0 speaks for the run.
  const bool speaker = mpi::world().rank == 0;
  if (!o.quiet && speaker) std::printf("%s%s\n", trainer.describe().c_str(),
                                       mpi::world().size > 1 ? (", data-parallel over " + std::to_string(mpi::world().size) + " MPI ranks").c_str() : "");
  std::fflush(stdout);

  // Ctrl-C or SIGTERM (a scheduler's stop) ends training after the current batch; the
  // last completed epoch's checkpoint stays.
  g_stop = false;
  trainer.set_stop_flag(&g_stop);
  g_previous_int = std::signal(SIGINT, on_sigint);
  g_previous_term = std::signal(SIGTERM, on_sigint);
  TrainSummary s;
  try {
    s = trainer.run();
  } catch (...) {
    std::signal(SIGINT, g_previous_int);
    std::signal(SIGTERM, g_previous_term);
    throw;
  }
  std::signal(SIGINT, g_previous_int);
  std::signal(SIGTERM, g_previous_term);

  if (s.interrupted) {
    // Stopped by a signal: not finished, so callers (scripts, ved sweep) must not take it
    // for a completed run; the error is the one report. --stop-after is a requested stop
    // and succeeds.
    VED_CHECK(!g_stop, "training interrupted after epoch " << s.epochs_done << " of " << s.epochs_total
                                                          << "; the checkpoint in " << o.out << " is kept: rerun with --resume");
    if (speaker) std::printf("stopped after epoch %d of %d (%d this run); continue with the same command plus --resume\n",
                s.epochs_done, s.epochs_total, s.epochs_this_run);
    return;
  }
  if (!speaker) return;
  std::printf("trained %d epochs%s (%d this run, %.1f s, %.0f samples/s); ", s.epochs_done,
              s.early_stopped ? " (early stop)" : "", s.epochs_this_run, s.seconds, s.samples_per_s);
  if (s.best_epoch > 0) std::printf("best val loss %.5g at epoch %d; ", s.best_val_loss, s.best_epoch);
  std::printf("val rel_l2_fluct %.4f -> %s\n", s.val_rel_l2_fluct, s.model_path.c_str());
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto cli = std::make_shared<TrainCli>();
  TrainOptions& o = cli->train;
  ModelConfig& m = o.model;
  CLI::App* cmd = app.add_subcommand(
      "train", "Train a variational encoder-decoder on a dataset (x -> y); defaults are the reference model "
               "of docs/method.md §3 (conv encoder on the Map2Grid image, r = 50, beta 1e-3, lambda 1e-2, 150 epochs)");
  // Data
  cmd->add_option("--data", o.data, "Dataset file (HDF5 with /x [N, n] and /y [N, m]); or give --x and --y");
  cmd->add_option("--x", o.x, "Inputs from an array instead of --data: FILE.npy, FILE.npz:name or FILE.h5:/path; "
                              "[N, n] vectors (on --mesh), [N, H, W] or [N, C, H, W] images");
  cmd->add_option("--y", o.y, "Outputs with --x: FILE.npy, FILE.npz:name or FILE.h5:/path, [N, m]");
  cmd->add_option("--rows", o.rows, "Rows of --data to use, A:B (e.g. 0:3000); empty = all");
  cmd->add_option("--mesh", o.mesh, "Input layout: auto (stored grid map, image shape or mesh attribute), none "
                                    "(plain vectors, MLP encoder), hanford, grid:NXxNY, an MRST folder or .mat "
                                    "file, or a cell file (.npz/.h5 with centroids [cells, 2] and adjacency [pairs, 2])");
  cmd->add_option("--val-fraction", o.val_fraction, "Fraction of the rows held out for validation");
  cmd->add_option("--test-fraction", o.test_fraction, "Fraction of the rows held out for `ved eval --split test`");
  cmd->add_option("--seed", o.seed, "Seed of the split, initial weights, shuffling and noise");
  cmd->add_option("--output-scale", o.output_scale,
                  "Standardise y per output (output), or with one common scale (global: for outputs that form one "
                  "field in one unit, so the loss weighs them as a relative error over the field does)");
  // Model
  cmd->add_option("--encoder", o.encoder, "auto (conv for images, mlp for vectors), conv or mlp");
  cmd->add_option("--latent", m.latent, "Latent dimension r");
  cmd->add_option("--encoder-stem", m.stem_channels, "Channels of the stride-2 stem convolution");
  cmd->add_option("--encoder-stages", cli->stages, "Output channels of each stride-2 stage (comma list)");
  cmd->add_option("--encoder-blocks", m.blocks, "Residual blocks per stage, at the stage's input width");
  cmd->add_option("--encoder-skip", m.residual, "true: residual blocks x + F(x); false: plain blocks F(x) with the "
                                                "same parameters (for ablations)");
  cmd->add_option("--encoder-kernel", m.kernel, "Convolution kernel size (odd)");
  cmd->add_option("--encoder-hidden", cli->encoder_hidden, "Fully connected widths between the conv features and "
                                                           "the mu/log-variance head (comma list; empty = none)");
  cmd->add_option("--mlp-hidden", o.mlp_hidden, "Hidden widths of the MLP encoder (comma list)");
  cmd->add_option("--decoder-hidden", cli->decoder_hidden, "Hidden widths of the fully connected decoder");
  cmd->add_option("--activation", m.activation, "relu, leaky_relu, elu, gelu, silu or tanh");
  cmd->add_option("--norm", m.norm, "Normalisation after each convolution: none, batch or group");
  cmd->add_option("--logvar-min", m.logvar_min, "Lower clamp of log sigma^2");
  cmd->add_option("--logvar-max", m.logvar_max, "Upper clamp of log sigma^2");
  // Loss
  cmd->add_option("--beta", o.beta, "Weight of the KL term");
  cmd->add_option("--lambda", o.lambda, "Weight of the covariance penalty (both parts)");
  cmd->add_option("--lambda-offdiag", o.lambda_offdiag, "Weight of the off-diagonal part (< 0: --lambda)");
  cmd->add_option("--lambda-diag", o.lambda_diag, "Weight of the diagonal part (< 0: --lambda)");
  cmd->add_option("--kl-warmup", o.kl_warmup, "Epochs over which beta ramps up linearly from 0 (0 = off)");
  // Optimisation
  cmd->add_option("--optimizer", o.optimizer, "adam or adamw");
  cmd->add_option("--lr", o.lr, "Learning rate");
  cmd->add_option("--weight-decay", o.weight_decay, "Weight decay (L2 for adam, decoupled for adamw)");
  cmd->add_option("--epochs", o.epochs, "Epochs (0 = automatic: 150, or more on small datasets so that training "
                                        "takes at least 6,000 optimiser steps)");
  cmd->add_option("--batch", o.batch, "Mini-batch size (the last partial batch of an epoch is dropped)");
  cmd->add_option("--schedule", o.schedule, "Learning-rate schedule: constant, step, cosine or plateau");
  cmd->add_option("--lr-min", o.lr_min, "Final learning rate of cosine, floor of plateau");
  cmd->add_option("--step-size", o.step_size, "step: epochs between decays");
  cmd->add_option("--gamma", o.gamma, "step: decay factor");
  cmd->add_option("--plateau-patience", o.plateau_patience, "plateau: epochs without improvement before a decay");
  cmd->add_option("--plateau-factor", o.plateau_factor, "plateau: decay factor");
  cmd->add_option("--clip", o.clip, "Clip the gradient L2 norm to this value (0 = off)");
  cmd->add_option("--patience", o.patience, "Early stopping: epochs without a lower validation loss (0 = off)");
  cmd->add_option("--keep", o.keep, "Weights saved in model.h5: last, or best (lowest validation loss)");
  // Run
  cmd->add_option("--out", o.out, "Run folder")->required();
  cmd->add_flag("--resume", o.resume, "Continue the run in --out from its checkpoint (same options)");
  cmd->add_option("--stop-after", o.stop_after, "Stop after this many epochs in this invocation (0 = no limit)");
  cmd->add_option("--threads", o.threads, "Intra-op threads (0 = all cores)");
  cmd->add_option("--device", o.device, "cpu, cuda or cuda:N (cuda needs a CUDA LibTorch build)");
  cmd->add_option("--precision", o.precision,
                  "Arithmetic of the training steps: fp32; bf16 (convolutions and matrix products in bfloat16, "
                  "fp32 weights, loss and optimiser: faster on CPUs with AVX-512 BF16 and on GPUs); tf32 (CUDA)")
      ->check(CLI::IsMember({"fp32", "bf16", "tf32"}));
  cmd->add_flag("--quiet", o.quiet, "No per-epoch lines on stdout");
  cmd->callback([cli] { run_train(*cli); });
}

}  // namespace ved::app
