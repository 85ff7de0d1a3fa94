#include "ved/nn/tensor_io.hpp"

#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"

namespace ved {

void write_tensors(h5::File& f, const std::string& group, const NamedTensors& tensors) {
  for (const auto& item : tensors) {
    torch::Tensor t = item.value().detach().to(torch::kCPU).contiguous();
    std::vector<size_t> dims(t.sizes().begin(), t.sizes().end());
    const std::string name = group + "/" + item.key();
    if (t.scalar_type() == torch::kFloat32) f.write(name, t.data_ptr<float>(), dims);
    else if (t.scalar_type() == torch::kFloat64) f.write(name, t.data_ptr<double>(), dims);
    else if (t.scalar_type() == torch::kInt64) f.write(name, t.data_ptr<int64_t>(), dims);
    else VED_FAIL("cannot store tensor '" << item.key() << "' of type " << t.scalar_type());
  }
}

void read_tensors_into(const h5::File& f, const std::string& group, const NamedTensors& tensors) {
  torch::NoGradGuard no_grad;
  for (const auto& item : tensors) {
    const std::string name = group + "/" + item.key();
    VED_CHECK(f.has(name), f.path() << ": '" << name << "' is missing; was the file written by another model?");
    std::vector<size_t> dims;
    std::vector<double> v = f.read_double(name, &dims);
    const torch::Tensor& dst = item.value();
    std::vector<int64_t> shape(dims.begin(), dims.end());
    VED_CHECK(torch::IntArrayRef(shape) == dst.sizes(),
              f.path() << ": '" << name << "' has shape " << torch::IntArrayRef(shape) << "; the model expects "
                       << dst.sizes());
    // float64 -> the tensor's type is exact for float32/int64 values stored from those types.
    torch::Tensor src = torch::from_blob(v.data(), shape, torch::kFloat64).to(dst.scalar_type());
    dst.copy_(src);
  }
}

void save_module(h5::File& f, const std::string& group, const torch::nn::Module& module) {
  write_tensors(f, group + "/params", module.named_parameters());
  NamedTensors buffers = module.named_buffers();
  if (!buffers.is_empty()) write_tensors(f, group + "/buffers", buffers);
}

void load_module(const h5::File& f, const std::string& group, torch::nn::Module& module) {
  read_tensors_into(f, group + "/params", module.named_parameters());
  NamedTensors buffers = module.named_buffers();
  if (!buffers.is_empty()) read_tensors_into(f, group + "/buffers", buffers);
}

}  // namespace ved
