// Fused sweeps (sequential or random scan) of B chains, one warp per chain: pairwise_sweeps for a dense
// pairwise model, multispin_sweeps (below) for a multi-spin model in the Walsh basis.
//
// Compiled by CuPy (NVRTC) and launched by thermopot/sampling/fused.py; it draws the same Philox4x32-10
// numbers as thermopot/sampling/philox.py, so a run gives the chains of the array code path on NumPy
// (up to the last-bit rounding of the field sums and of log / log1p).
//
// Per chain (one warp; lane l owns the sites j = l, l + 32, ...), kept in shared memory for all
// `sweeps` sweeps of one launch: the spins and the local fields H_j = h_j + sum_l J_jl s_l (double;
// with shared_fields = 0 the fields stay in global memory instead, for N too large for shared memory).
// Update t of a sweep visits site k = t (sequential scan) or k = (x2 N) >> 32 (random scan, x2 the third
// Philox word of the update): every lane reads s_k and H_k and takes the same decision, flip iff
// dE = 2 s_k H_k < r (r: the threshold of the update's uniform u, heat bath T log((1 - u) / u),
// Metropolis -T log u); on a flip each lane adds ds J_kj (ds = -2 s_k) to the fields it owns.
// The numbers of 32 consecutive updates are computed in parallel, one per lane, and handed over by
// warp shuffles. J must be symmetric with a zero diagonal (row k = column k; H_k does not change).
//
// First passage (track = 1): lane 0 keeps D = sum_j s_j s0_j (an exact integer; s0 the chain's start
// state, `start`, kept in shared memory too) and, the first time a flip makes D < threshold_dot,
// stores the number of updates since the passage clock started, first_update + w N + t + 1, in
// passage[chain] (left alone where it is already >= 0).

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

__device__ __forceinline__ void philox4x32_10(unsigned int c[4], unsigned int k0, unsigned int k1)
{
    for (int round = 0; round < 10; ++round) {
        if (round) {
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        const unsigned int hi0 = __umulhi(PHILOX_M0, c[0]), lo0 = PHILOX_M0 * c[0];
        const unsigned int hi1 = __umulhi(PHILOX_M1, c[2]), lo1 = PHILOX_M1 * c[2];
        const unsigned int next0 = hi1 ^ c[1] ^ k0, next2 = hi0 ^ c[3] ^ k1;
        c[0] = next0;
        c[1] = lo1;
        c[2] = next2;
        c[3] = lo0;
    }
}

// Flip threshold and site of update t of a sweep: counter (t, chain, sweep mod 2^32, sweep / 2^32).
__device__ __forceinline__ double update_numbers(int t, int chain, unsigned long long sweep,
                                                 unsigned int key0, unsigned int key1, double T,
                                                 int metropolis, int n, int random_scan, int* site)
{
    unsigned int c[4] = {(unsigned int)t, (unsigned int)chain, (unsigned int)sweep,
                         (unsigned int)(sweep >> 32)};
    philox4x32_10(c, key0, key1);
    *site = random_scan ? (int)(((unsigned long long)c[2] * (unsigned long long)n) >> 32) : t;
    const unsigned long long m = ((unsigned long long)c[0] << 20) | (unsigned long long)(c[1] >> 12);
    const double u = ((double)m + 0.5) * 2.220446049250313e-16;  // (m + 1/2) 2^-52
    return metropolis ? -T * log(u) : T * (log1p(-u) - log(u));
}

extern __shared__ double shared[];  // the block's dynamic shared memory

// This thread's warp: its lane, its index in the block, the block's warps, and the chain it runs.
struct WarpIndex {
    int lane, warp, warps, chain;
};

__device__ __forceinline__ WarpIndex warp_index()
{
    const int warps = (int)(blockDim.x >> 5), warp = (int)(threadIdx.x >> 5);
    const WarpIndex at = {(int)(threadIdx.x & 31), warp, warps, (int)blockIdx.x * warps + warp};
    return at;
}

// What both kernels keep per chain (one warp): the spins and start spins in shared memory, and in
// lane 0 the accepted flips, D = sum_j s_j s0_j and the first-passage time (< 0: not yet).
struct Chain {
    signed char* S;
    signed char* S0;
    long long accepted;
    int dot;
    long long hit;
};

// Load the chain's spins (and start spins) into shared memory; the caller may have written other
// shared memory before: the closing __syncwarp orders it too.
__device__ __forceinline__ Chain load_chain(signed char* S, signed char* S0, const double* chain_spins,
                                            const double* chain_start, int n, int lane, int track,
                                            const long long* passage, int chain)
{
    for (int j = lane; j < n; j += 32) {
        S[j] = chain_spins[j] > 0.0 ? 1 : -1;
        if (track) S0[j] = chain_start[j] > 0.0 ? 1 : -1;
    }
    __syncwarp();
    Chain c = {S, S0, 0, 0, -1};
    if (track && lane == 0) {
        for (int j = 0; j < n; ++j) c.dot += S[j] * S0[j];
        c.hit = passage[chain];
    }
    return c;
}

// Lane 0, after the update numbered `update` (counted from the start of the passage clock) flipped k.
__device__ __forceinline__ void count_flip(Chain& c, int k, int track, double threshold_dot,
                                           long long update)
{
    c.S[k] = (signed char)(-c.S[k]);
    ++c.accepted;
    if (track) {
        c.dot += 2 * c.S[k] * c.S0[k];
        if (c.hit < 0 && c.dot < threshold_dot) c.hit = update;
    }
}

__device__ __forceinline__ void store_chain(const Chain& c, double* chain_spins, int n, int lane,
                                            int track, long long* flips, long long* passage, int chain)
{
    for (int j = lane; j < n; j += 32) chain_spins[j] = (double)c.S[j];
    if (lane == 0) {
        flips[chain] += c.accepted;
        if (track) passage[chain] = c.hit;
    }
}

// The sweeps: update t of sweep w visits site k with threshold r_k, handed to every lane by shuffles;
// update(k, r_k, u) does the model's part, u = w N + t + 1 the update's number in this launch.
template <class Update>
__device__ __forceinline__ void run_sweeps(int n, int chain, int sweeps, unsigned long long first_sweep,
                                           unsigned int key0, unsigned int key1, double T,
                                           int metropolis, int random_scan, int lane, Update update)
{
    for (int w = 0; w < sweeps; ++w) {
        const unsigned long long sweep = first_sweep + (unsigned long long)w;
        for (int base = 0; base < n; base += 32) {
            int site = 0;
            const double r = base + lane < n ? update_numbers(base + lane, chain, sweep, key0, key1, T,
                                                              metropolis, n, random_scan, &site)
                                             : 0.0;
            const int count = n - base < 32 ? n - base : 32;
            for (int i = 0; i < count; ++i) {
                const int k = __shfl_sync(0xffffffffu, site, i);
                const double rk = __shfl_sync(0xffffffffu, r, i);
                update(k, rk, (long long)w * n + base + i + 1);
            }
        }
    }
}

// spins, fields: (chains, n) row-major, updated in place; J: (n, n); flips: (chains,) accepted flips,
// incremented; start: (chains, n) and passage: (chains,), read only when track = 1. Dynamic shared
// memory: warps_per_block * n * (8 shared_fields + 1 + track) bytes.
extern "C" __global__ void pairwise_sweeps(double* __restrict__ spins, double* __restrict__ fields,
                                           const double* __restrict__ J, long long* __restrict__ flips,
                                           int n, int chains, int sweeps,
                                           unsigned long long first_sweep, unsigned int key0,
                                           unsigned int key1, double T, int metropolis,
                                           int random_scan, int shared_fields, int track,
                                           const double* __restrict__ start, double threshold_dot,
                                           long long* __restrict__ passage, long long first_update)
{
    const WarpIndex at = warp_index();
    if (at.chain >= chains) return;  // the whole warp: no block-wide barrier follows
    const int lane = at.lane, warp = at.warp, warps = at.warps, chain = at.chain;

    double* chain_fields = fields + (size_t)chain * n;
    double* H = shared_fields ? shared + (size_t)warp * n : chain_fields;
    signed char* bytes = (signed char*)(shared + (shared_fields ? (size_t)warps * n : 0));
    if (shared_fields) {
        for (int j = lane; j < n; j += 32) H[j] = chain_fields[j];
    }
    Chain c = load_chain(bytes + (size_t)warp * n, bytes + (size_t)(warps + warp) * n,
                         spins + (size_t)chain * n, start + (size_t)chain * n, n, lane, track, passage,
                         chain);
    run_sweeps(n, chain, sweeps, first_sweep, key0, key1, T, metropolis, random_scan, lane,
               [&](int k, double rk, long long update) {
                   const double sk = (double)c.S[k];
                   const double hk = H[k];
                   __syncwarp();  // every lane has read s_k and H_k before any lane writes
                   if (2.0 * sk * hk < rk) {  // the same decision in every lane
                       const double ds = -2.0 * sk;
                       const double* row = J + (size_t)k * n;
                       for (int j = lane; j < n; j += 32) {
                           if (j != k) H[j] += ds * row[j];
                       }
                       if (lane == 0) count_flip(c, k, track, threshold_dot, first_update + update);
                   }
                   __syncwarp();  // the new fields and spin are visible to every lane
               });
    if (shared_fields) {
        for (int j = lane; j < n; j += 32) chain_fields[j] = H[j];
    }
    store_chain(c, spins + (size_t)chain * n, n, lane, track, flips, passage, chain);
}

// Fused sweeps of a multi-spin model E(s) = -sum_a J_a chi_a(s), chi_a = prod_{k in a} s_k, one warp
// per chain, with the same numbers, scans, update rules and first-passage tracking as pairwise_sweeps.
// Per chain in shared memory: the spins, the start spins (track = 1) and the Walsh products chi as
// int8 (shared_chi = 1; else chi stays float64 in global memory). Update of site k: the lanes sum
// J_a chi_a over the terms a containing k (CSR: terms[offsets[k] .. offsets[k + 1])), a butterfly adds
// the partial sums and lane 0's total is broadcast, so every lane takes the same decision,
// flip iff dE = 2 sum_{a ∋ k} J_a chi_a < r; a flip negates those chi_a.
// spins (chains, n) and chi (chains, n_terms) row-major, updated in place. Dynamic shared memory:
// warps_per_block * (n (1 + track) + n_terms shared_chi) bytes.
extern "C" __global__ void multispin_sweeps(double* __restrict__ spins, double* __restrict__ chi,
                                            const int* __restrict__ offsets,
                                            const int* __restrict__ terms,
                                            const double* __restrict__ couplings, int n_terms,
                                            long long* __restrict__ flips, int n, int chains,
                                            int sweeps, unsigned long long first_sweep,
                                            unsigned int key0, unsigned int key1, double T,
                                            int metropolis, int random_scan, int shared_chi,
                                            int track, const double* __restrict__ start,
                                            double threshold_dot, long long* __restrict__ passage,
                                            long long first_update)
{
    const WarpIndex at = warp_index();
    if (at.chain >= chains) return;  // the whole warp: no block-wide barrier follows
    const int lane = at.lane, warp = at.warp, chain = at.chain;

    const size_t per_warp = (size_t)n * (1 + track) + (shared_chi ? (size_t)n_terms : 0);
    signed char* S = (signed char*)shared + (size_t)warp * per_warp;
    signed char* X = S + (size_t)n * (1 + track);
    double* chain_chi = chi + (size_t)chain * n_terms;
    if (shared_chi) {
        for (int a = lane; a < n_terms; a += 32) X[a] = chain_chi[a] > 0.0 ? 1 : -1;
    }
    Chain c = load_chain(S, S + n, spins + (size_t)chain * n, start + (size_t)chain * n, n, lane, track,
                         passage, chain);
    run_sweeps(n, chain, sweeps, first_sweep, key0, key1, T, metropolis, random_scan, lane,
               [&](int k, double rk, long long update) {
                   const int first = offsets[k], last = offsets[k + 1];
                   double part = 0.0;
                   for (int idx = first + lane; idx < last; idx += 32) {
                       const int a = terms[idx];
                       part += couplings[a] * (shared_chi ? (double)X[a] : chain_chi[a]);
                   }
                   for (int offset = 16; offset > 0; offset >>= 1)
                       part += __shfl_xor_sync(0xffffffffu, part, offset);
                   const double total = __shfl_sync(0xffffffffu, part, 0);  // one value for every lane
                   __syncwarp();  // every lane has read chi before any lane negates it
                   if (2.0 * total < rk) {
                       for (int idx = first + lane; idx < last; idx += 32) {
                           const int a = terms[idx];
                           if (shared_chi) X[a] = (signed char)(-X[a]);
                           else chain_chi[a] = -chain_chi[a];
                       }
                       if (lane == 0) count_flip(c, k, track, threshold_dot, first_update + update);
                   }
                   __syncwarp();  // the new products and spin are visible to every lane
               });
    if (shared_chi) {
        for (int a = lane; a < n_terms; a += 32) chain_chi[a] = (double)X[a];
    }
    store_chain(c, spins + (size_t)chain * n, n, lane, track, flips, passage, chain);
}
