#pragma once
// Every knob of `ved train`, with the defaults of docs/method.md §3 (the default model: Adam,
// lr 1e-3 with cosine decay to 1e-5 over 150 epochs, batch 64, β = 1e-3, λ = 1e-2).
// The CLI binds one option to each field; the same names are the TOML keys.
#include <cstdint>
#include <string>

#include "ved/data/dataset.hpp"
#include "ved/nn/model_config.hpp"

namespace ved {

constexpr int kDefaultEpochs = 150;
constexpr int64_t kMinAutoSteps = 6000;

struct TrainOptions {
  // Data
  std::string data;                 // dataset file (HDF5, see data/dataset.hpp), or:
  std::string x;                    // inputs array  (FILE.npy | FILE.npz:name | FILE.h5:/path)
  std::string y;                    // outputs array (same forms), with x instead of data
  std::string rows;                 // "A:B" rows of the file to use ("" = all)
  std::string mesh = "auto";        // auto | none | hanford | grid:NXxNY | model folder
  double val_fraction = 0.1;        // of the rows, for early stopping and monitoring
  double test_fraction = 0.0;       // of the rows, held out for `ved eval --split test`
  uint64_t seed = 1;                // split, initial weights, shuffling, ε
  std::string output_scale = "output";  // y standardised per output, or "global": one scale
  // Model (input and output sizes come from the data)
  std::string encoder = "auto";     // auto (conv for images / meshes, mlp for vectors) | conv | mlp
  ModelConfig model;
  std::string mlp_hidden = "512,256";  // hidden widths of the MLP encoder
  // Loss
  double beta = 1e-3;               // KL weight
  double lambda = 1e-2;             // covariance weight (both parts unless overridden)
  double lambda_offdiag = -1;       // < 0: use lambda
  double lambda_diag = -1;          // < 0: use lambda
  int kl_warmup = 0;                // epochs over which β ramps linearly from 0 (0 = off)
  // Optimisation
  std::string optimizer = "adam";   // adam | adamw
  double lr = 1e-3;
  double weight_decay = 0.0;
  // 0 = auto: 150 (docs/method.md §3), or more on small datasets so that training takes at least
  // kMinAutoSteps optimiser steps (150 epochs of 900 rows at batch 64 is only 2,100 steps).
  int epochs = 0;
  int batch = 64;                   // the last partial batch of an epoch is dropped
  std::string schedule = "cosine";  // constant | step | cosine | plateau
  double lr_min = 1e-5;             // cosine floor, plateau floor
  int step_size = 50;               // step: epochs between decays
  double gamma = 0.1;               // step: decay factor
  int plateau_patience = 10;        // plateau: epochs without improvement before decaying
  double plateau_factor = 0.5;      // plateau: decay factor
  double clip = 0.0;                // max gradient L2 norm (0 = no clipping)
  int patience = 0;                 // early stopping: epochs without val improvement (0 = off)
  std::string keep = "last";        // weights written to model.h5: last | best (lowest val loss)
  // Run
  std::string out;                  // run folder
  bool resume = false;              // continue from out/checkpoint.h5
  int stop_after = 0;               // stop after this many epochs in this invocation (0 = no limit)
  int threads = 0;                  // intra-op threads (0 = all cores)
  std::string device = "cpu";       // cpu | cuda | cuda:N
  // Arithmetic of the training steps: fp32, bf16 (autocast: convolutions and matrix products
  // in bfloat16, fp32 weights, loss and optimiser) or tf32 (CUDA matrix units). Validation
  // and inference stay fp32.
  std::string precision = "fp32";
  bool quiet = false;               // no per-epoch line on stdout

  double lambda_offdiag_value() const { return lambda_offdiag < 0 ? lambda : lambda_offdiag; }
  double lambda_diag_value() const { return lambda_diag < 0 ? lambda : lambda_diag; }

  DataSource source() const { return {data, x, y}; }
};

// Throws ved::Error naming the option and its valid range.
void validate(const TrainOptions& o);

std::string to_json(const TrainOptions& o);
TrainOptions train_options_from_json(const std::string& text);


}  // namespace ved
