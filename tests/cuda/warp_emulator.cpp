// CPU emulation of one-warp-per-block launches of thermopot/sampling/_pairwise_sweeps.cu, for the
// tests on machines without a GPU: the 32 lanes of a warp are 32 threads; __syncwarp is a barrier
// and __shfl_sync exchanges through a buffer between two barriers. Blocks run one after another.
//
// Usage: warp_emulator IN OUT, where IN holds (little-endian) int32 n, chains, sweeps, metropolis,
// random_scan;
// uint64 first_sweep; uint32 key0, key1; float64 T; then float64 spins (chains, n), fields
// (chains, n), J (n, n) and int64 flips (chains); OUT receives spins, fields and flips.
#include <barrier>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__
#define __shared__

struct Index { unsigned int x; };
thread_local Index threadIdx;
Index blockIdx, blockDim;
static std::barrier<>* lanes_barrier;
static double exchange[32];  // wide enough for every type a shuffle moves (int, double)

inline void __syncwarp() { lanes_barrier->arrive_and_wait(); }
template <class T> T __shfl_sync(unsigned int, T value, int source)
{
    exchange[threadIdx.x & 31] = value;
    __syncwarp();
    const T out = (T)exchange[source];
    __syncwarp();
    return out;
}
inline unsigned int __umulhi(unsigned int a, unsigned int b)
{
    return (unsigned int)(((unsigned long long)a * b) >> 32);
}

#include KERNEL_SOURCE

double shared[1 << 20];

template <class T> static void read(FILE* f, T* out, size_t count)
{
    if (fread(out, sizeof(T), count, f) != count) { fprintf(stderr, "short input\n"); exit(2); }
}

int main(int argc, char** argv)
{
    if (argc != 3) return 2;
    FILE* in = fopen(argv[1], "rb");
    if (!in) return 2;
    int head[5];
    unsigned long long first_sweep;
    unsigned int key[2];
    double T;
    read(in, head, 5);
    read(in, &first_sweep, 1);
    read(in, key, 2);
    read(in, &T, 1);
    const int n = head[0], chains = head[1], sweeps = head[2], metropolis = head[3], random_scan = head[4];
    std::vector<double> spins((size_t)chains * n), fields((size_t)chains * n), J((size_t)n * n);
    std::vector<long long> flips(chains);
    read(in, spins.data(), spins.size());
    read(in, fields.data(), fields.size());
    read(in, J.data(), J.size());
    read(in, flips.data(), flips.size());
    fclose(in);
    if ((size_t)n * 9 > sizeof(shared)) return 2;

    std::barrier<> barrier(32);
    lanes_barrier = &barrier;
    blockDim.x = 32;
    for (int block = 0; block < chains; ++block) {
        blockIdx.x = block;
        std::vector<std::thread> lanes;
        for (unsigned int lane = 0; lane < 32; ++lane)
            lanes.emplace_back([&, lane] {
                threadIdx.x = lane;
                pairwise_sweeps(spins.data(), fields.data(), J.data(), flips.data(), n, chains,
                                sweeps, first_sweep, key[0], key[1], T, metropolis, random_scan);
            });
        for (auto& t : lanes) t.join();
    }

    FILE* out = fopen(argv[2], "wb");
    if (!out) return 2;
    fwrite(spins.data(), sizeof(double), spins.size(), out);
    fwrite(fields.data(), sizeof(double), fields.size(), out);
    fwrite(flips.data(), sizeof(long long), flips.size(), out);
    fclose(out);
    return 0;
}
