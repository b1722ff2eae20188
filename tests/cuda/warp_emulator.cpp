// CPU emulation of launches of the kernels of thermopot/sampling/_fused_sweeps.cu, for the tests on
// machines without a GPU. Every lane of a block is a thread; blocks run one after another, with the shared
// memory poisoned between them. __syncwarp is a barrier of the warp's 32 threads (a happens-before
// edge, as on a GPU). __shfl_sync moves values through relaxed atomics and a relaxed rendezvous: like
// a GPU shuffle it orders no other memory, so a kernel that leans on a shuffle to order its shared
// memory accesses shows a data race under ThreadSanitizer (build with -fsanitize=thread).
//
// Usage: warp_emulator IN OUT, where IN holds (little-endian) int32 kind (0 pairwise_sweeps,
// 1 multispin_sweeps), n, chains, sweeps, metropolis, random_scan, warps_per_block, track,
// shared_mode, n_terms, nnz; uint64 first_sweep; uint32 key0, key1; float64 T, threshold_dot; int64
// first_update; float64 spins (chains, n); the model: float64 fields (chains, n) and J (n, n)
// (pairwise), or float64 chi (chains, n_terms), int32 offsets (n + 1), int32 terms (nnz) and float64
// couplings (n_terms) (multi-spin); then int64 flips (chains), float64 start (chains, n) and int64
// passage (chains). OUT receives spins, fields or chi, flips and passage.
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__
#define __shared__

constexpr int MAX_WARPS = 8;

struct Index { unsigned int x; };
thread_local Index threadIdx;
Index blockIdx, blockDim;
static std::unique_ptr<std::barrier<>> warp_barrier[MAX_WARPS];
static std::atomic<double> exchange[MAX_WARPS][32];  // wide enough for every shuffled type
static std::atomic<unsigned long long> arrived[MAX_WARPS];
thread_local unsigned long long rendezvous_count = 0;

inline void __syncwarp() { warp_barrier[threadIdx.x >> 5]->arrive_and_wait(); }

static void relaxed_rendezvous()  // wait for the 32 lanes of the warp, ordering no memory
{
    std::atomic<unsigned long long>& count = arrived[threadIdx.x >> 5];
    ++rendezvous_count;
    count.fetch_add(1, std::memory_order_relaxed);
    while (count.load(std::memory_order_relaxed) < 32 * rendezvous_count) std::this_thread::yield();
}

template <class T> T __shfl_sync(unsigned int, T value, int source)
{
    const int warp = threadIdx.x >> 5;
    exchange[warp][threadIdx.x & 31].store((double)value, std::memory_order_relaxed);
    relaxed_rendezvous();
    const T out = (T)exchange[warp][source].load(std::memory_order_relaxed);
    relaxed_rendezvous();  // nobody overwrites a slot before every lane has read
    return out;
}

template <class T> T __shfl_xor_sync(unsigned int mask, T value, int lane_mask)
{
    return __shfl_sync(mask, value, (int)(threadIdx.x & 31) ^ lane_mask);
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
    int head[11];
    unsigned long long first_sweep;
    unsigned int key[2];
    double T, threshold_dot;
    long long first_update;
    read(in, head, 11);
    read(in, &first_sweep, 1);
    read(in, key, 2);
    read(in, &T, 1);
    read(in, &threshold_dot, 1);
    read(in, &first_update, 1);
    const int kind = head[0], n = head[1], chains = head[2], sweeps = head[3], metropolis = head[4];
    const int random_scan = head[5], warps = head[6], track = head[7], shared_mode = head[8];
    const int n_terms = head[9], nnz = head[10];
    if (warps < 1 || warps > MAX_WARPS || ((size_t)n * 10 + n_terms) * warps > sizeof(shared)) {
        fprintf(stderr, "unsupported size\n");
        return 2;
    }
    const size_t state = kind == 0 ? (size_t)chains * n : (size_t)chains * n_terms;
    std::vector<double> spins((size_t)chains * n), model_state(state), J(kind == 0 ? (size_t)n * n : 0);
    std::vector<double> couplings(kind == 1 ? n_terms : 0), start((size_t)chains * n);
    std::vector<int> offsets(kind == 1 ? n + 1 : 0), terms(kind == 1 ? nnz : 0);
    std::vector<long long> flips(chains), passage(chains);
    read(in, spins.data(), spins.size());
    read(in, model_state.data(), model_state.size());
    read(in, J.data(), J.size());
    read(in, offsets.data(), offsets.size());
    read(in, terms.data(), terms.size());
    read(in, couplings.data(), couplings.size());
    read(in, flips.data(), flips.size());
    read(in, start.data(), start.size());
    read(in, passage.data(), passage.size());
    fclose(in);

    for (int w = 0; w < warps; ++w) warp_barrier[w] = std::make_unique<std::barrier<>>(32);
    blockDim.x = 32 * warps;
    for (int block = 0; block < (chains + warps - 1) / warps; ++block) {
        blockIdx.x = block;
        for (double& v : shared) v = NAN;  // poison: a read before a write shows in the results
        for (auto& count : arrived) count.store(0);
        std::vector<std::thread> lanes;
        for (unsigned int t = 0; t < 32u * warps; ++t)
            lanes.emplace_back([&, t] {
                threadIdx.x = t;
                if (kind == 0)
                    pairwise_sweeps(spins.data(), model_state.data(), J.data(), flips.data(), n, chains,
                                    sweeps, first_sweep, key[0], key[1], T, metropolis, random_scan,
                                    shared_mode, track, start.data(), threshold_dot, passage.data(),
                                    first_update);
                else
                    multispin_sweeps(spins.data(), model_state.data(), offsets.data(), terms.data(),
                                     couplings.data(), n_terms, flips.data(), n, chains, sweeps,
                                     first_sweep, key[0], key[1], T, metropolis, random_scan,
                                     shared_mode, track, start.data(), threshold_dot, passage.data(),
                                     first_update);
            });
        for (auto& t : lanes) t.join();
    }

    FILE* out = fopen(argv[2], "wb");
    if (!out) return 2;
    fwrite(spins.data(), sizeof(double), spins.size(), out);
    fwrite(model_state.data(), sizeof(double), model_state.size(), out);
    fwrite(flips.data(), sizeof(long long), flips.size(), out);
    fwrite(passage.data(), sizeof(long long), passage.size(), out);
    fclose(out);
    return 0;
}
