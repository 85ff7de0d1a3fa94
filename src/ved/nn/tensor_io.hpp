#pragma once
// Named tensors to and from an HDF5 group, as plain arrays that h5py reads:
// float32/float64/int64 kept as such. Used for weights, buffers and optimiser moments.
//
//   write_tensors(f, "/params", model->named_parameters());
//   read_tensors_into(f, "/params", model->named_parameters());   // copies, checks shapes
#include <torch/torch.h>

#include <string>

namespace ved {
namespace h5 {
class File;
}

using NamedTensors = torch::OrderedDict<std::string, torch::Tensor>;

void write_tensors(h5::File& f, const std::string& group, const NamedTensors& tensors);
// Copies each stored array into the tensor of the same name (any device); every tensor
// must be present with its shape.
void read_tensors_into(const h5::File& f, const std::string& group, const NamedTensors& tensors);

// Model weights and buffers under group/params and group/buffers.
void save_module(h5::File& f, const std::string& group, const torch::nn::Module& module);
void load_module(const h5::File& f, const std::string& group, torch::nn::Module& module);

}  // namespace ved
