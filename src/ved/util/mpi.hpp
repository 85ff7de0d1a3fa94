#pragma once
// MPI when ved runs under mpirun/srun, a single process otherwise. Built without MPI
// (VED_WITH_MPI=OFF) every call is the single-process identity.
//
//   mpi::World w = mpi::init(&argc, &argv);      // in main; MPI_Init only under a launcher
//   if (w.size > 1) mpi::gather_rows(local, rows, cols, &all);
//   mpi::finalize();
//
// A rank that fails calls mpi::abort so that the others never hang in a collective.
#include <string>
#include <vector>

namespace ved::mpi {

struct World {
  int rank = 0;
  int size = 1;
};

// Initialises MPI when the process was started by an MPI launcher (OpenMPI, MPICH/PMI,
// Slurm); a plain `ved ...` stays single-process without touching MPI.
World init(int* argc, char*** argv);
World world();
void finalize();
[[noreturn]] void abort(int code);
bool compiled_with_mpi();

void barrier();
// Concatenates each rank's row-major [rows_r, cols] block on rank 0 in rank order
// (`out` is filled on rank 0 only).
void gather_rows(const double* local, long rows, long cols, std::vector<double>* out);
void broadcast(double* data, long n, int root = 0);
void allreduce_sum(double* data, long n);
void allreduce_sum(float* data, long n);  // n < 2^31
void broadcast(float* data, long n, int root = 0);

}  // namespace ved::mpi
