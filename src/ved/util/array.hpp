#pragma once
// Dense array types shared by the physics and data modules. Samples are rows, so a
// row-major [N, n] matrix has the memory layout of an HDF5 or NumPy array of that shape.
#include <Eigen/Core>

namespace ved {

using MatrixRM = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixRMf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using IndexVector = Eigen::Matrix<Eigen::Index, Eigen::Dynamic, 1>;

}  // namespace ved
