using System.ComponentModel.DataAnnotations;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Flare.Routing.Estimation.Index;

/// <summary>Options of <see cref="HnswIndex"/>.</summary>
public sealed record HnswOptions
{
    /// <summary>Links kept per vector on the upper layers; twice as many on the bottom layer (default 24). Hashed
    /// n-gram vectors of prompts are high-dimensional in the intrinsic sense, and more links buy more recall per
    /// microsecond of search than a wider search does: at 100,000 prompts recall@10 0.974 at efSearch 48 with
    /// M = 24, against 0.959 with 16 (docs/benchmarks.md, "Estimator"); building takes ~1.5× as long.</summary>
    [Range(2, 128)]
    public int M { get; init; } = 24;

    /// <summary>Candidates considered when linking a new vector (default 100). Higher builds a better graph,
    /// more slowly.</summary>
    [Range(1, 4096)]
    public int EfConstruction { get; init; } = 100;

    /// <summary>Candidates kept while searching (default 48; a search for k neighbours keeps at least k, so the
    /// estimator's k = 40 searches with 48). At 100,000 prompts: recall@10 0.974 against exact search, and the
    /// estimator's quality error on real held-out prompts the same as with exact search (docs/benchmarks.md,
    /// "Estimator"). Smaller histories are scanned instead (<see cref="ScanBelow"/>).</summary>
    [Range(1, 4096)]
    public int EfSearch { get; init; } = 48;

    /// <summary>Below this many vectors a search compares the query with every vector (on the int8 copies, then
    /// re-ranking the best efSearch exactly, as after a graph walk) instead of walking the graph (default 10,000;
    /// 0 always walks). The scan is exact up to the int8 rounding and reads the vectors in order, which the
    /// processor prefetches: at 5,000 vectors it is faster than a walk at efSearch 48, at 10,000 about 20% slower
    /// (~150 µs). Held-out real prompts are the hard case for a walk at these sizes: on the 5,608-prompt dcrouter
    /// split its recall@10 was 0.92 at efSearch 64 with M = 16, and the scan's is 1 (docs/estimator.md).</summary>
    [Range(0, int.MaxValue)]
    public int ScanBelow { get; init; } = 10_000;

    /// <summary>Seed of the random layer assignment (default 0): the same vectors added in the same order give
    /// the same graph.</summary>
    public int Seed { get; init; }

    /// <summary>The defaults above.</summary>
    public static HnswOptions Default { get; } = new();
}

/// <summary>
/// Hierarchical navigable small-world graph (Malkov &amp; Yashunin, TPAMI 2018) over unit vectors, cosine
/// similarity. Chosen over IVF or LSH because it needs no training pass (vectors arrive one by one, as feedback
/// does), its recall at a given cost is among the best measured, and each search touches only a few thousand
/// vectors.
/// </summary>
/// <remarks>
/// <para>Concurrency: one writer (adds are serialised by a lock); any number of readers without locks. A new
/// vector's node is complete before any link to it is published, and link lists are immutable arrays replaced
/// whole (copy-on-write), so a reader sees either the old or the new list, never a half-written one. A reader
/// may reach a vector added during its search; that is harmless.</para>
/// <para>Neighbours are chosen with the paper's heuristic (its algorithm 4): a candidate is kept only if it is
/// closer to the new vector than to every neighbour kept so far, which keeps links spread over clusters.</para>
/// <para>Storage: vectors sit in chunks of 1,024, each one contiguous float array (a chunk never moves; only the
/// small chunk directory is copied when it grows), next to an int8 copy of each vector (scaled by its largest
/// component) and the bottom layer's link lists. A search walks the graph with the int8 copies — a quarter of the
/// memory traffic, which is what a walk over 100,000 vectors waits on — and then re-ranks the efSearch candidates
/// it kept by their exact float similarity, so the similarities returned are exact. Adding a vector walks the
/// same way and re-ranks its efConstruction candidates exactly before the heuristic chooses its links.</para>
/// <para>Below <see cref="HnswOptions.ScanBelow"/> vectors a search scans them all instead of walking.</para>
/// </remarks>
public sealed class HnswIndex : IVectorIndex
{
    private const int ChunkBits = 10;
    private const int ChunkSize = 1 << ChunkBits;
    private const int ChunkMask = ChunkSize - 1;

    // Largest code of a query component: queries are quantised finer than stored vectors (int16 against int8),
    // and 1,023 keeps the int32 sums of products far from overflow.
    private const int QueryRange = 1023;

    [ThreadStatic]
    private static SearchScratch? t_scratch;

    private readonly HnswOptions _options;
    private readonly Lock _write = new();
    private readonly Random _random;
    private readonly double _levelMultiplier;
    private readonly int _codeStride;
    private readonly int _rowBytes;
    private Chunk?[] _chunks = new Chunk?[16];
    private EntryPoint? _entry;
    private int _count;

    /// <summary>An empty index of vectors of length <paramref name="dimensions"/>.</summary>
    public HnswIndex(int dimensions, HnswOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        _options = options ?? HnswOptions.Default;
        Validator.ValidateObject(_options, new ValidationContext(_options), validateAllProperties: true);
        Dimensions = dimensions;
        _codeStride = (dimensions + 31) & ~31;
        _rowBytes = _codeStride + 32;
        _random = new Random(_options.Seed);
        _levelMultiplier = 1 / Math.Log(_options.M);
    }

    /// <inheritdoc />
    public int Dimensions { get; }

    /// <inheritdoc />
    public int Count => Volatile.Read(ref _count);

    /// <summary>The options in force.</summary>
    public HnswOptions Options => _options;

    /// <inheritdoc />
    public int Add(ReadOnlySpan<float> vector)
    {
        if (vector.Length != Dimensions)
        {
            throw new ArgumentException($"The vector has {vector.Length} dimensions, not {Dimensions}.", nameof(vector));
        }

        lock (_write)
        {
            var id = _count;
            var chunks = _chunks;
            if ((id >> ChunkBits) == chunks.Length)
            {
                var grown = new Chunk?[chunks.Length * 2];
                Array.Copy(chunks, grown, chunks.Length);
                chunks = grown;
                Volatile.Write(ref _chunks, grown);
            }

            var chunk = chunks[id >> ChunkBits];
            if (chunk is null)
            {
                chunk = new Chunk(Dimensions, _rowBytes);
                Volatile.Write(ref chunks[id >> ChunkBits], chunk);
            }

            // The node is complete (vector, code, empty link lists) before anything links to it.
            var offset = id & ChunkMask;
            var level = (int)(-Math.Log(1 - _random.NextDouble()) * _levelMultiplier);
            vector.CopyTo(chunk.Vectors.AsSpan(offset * Dimensions, Dimensions));
            var row = chunk.Codes.AsSpan(offset * _rowBytes, _rowBytes);
            var scale = Quantize(vector, row[.._codeStride]);
            MemoryMarshal.Write(MemoryMarshal.AsBytes(row[_codeStride..]), in scale);
            var upper = new int[level][];
            Array.Fill(upper, []);
            chunk.Upper[offset] = upper;
            Volatile.Write(ref chunk.Bottom[offset], []);

            var entry = _entry;
            if (entry is null)
            {
                Volatile.Write(ref _entry, new EntryPoint(id, level));
                Volatile.Write(ref _count, id + 1);
                return id;
            }

            // The walk that finds the new vector's neighbours runs on the int8 copies, as a search does; the
            // candidates are re-ranked exactly before the heuristic picks among them.
            var scratch = t_scratch ??= new SearchScratch();
            var codes = scratch.Query(_codeStride);
            var similarity = new QuantizedSimilarity(codes, QuantizeQuery(vector, codes), _codeStride, _rowBytes);
            var current = new Neighbour(entry.Id, similarity.To(chunks, entry.Id));
            for (var layer = entry.Level; layer > level; layer--)
            {
                current = Greedy(chunks, id, similarity, current, layer);
            }

            for (var layer = Math.Min(level, entry.Level); layer >= 0; layer--)
            {
                var candidates = SearchLayer(chunks, id, similarity, current, _options.EfConstruction, layer, scratch);
                current = candidates[0];
                Rerank(chunks, vector, candidates);
                var max = layer == 0 ? 2 * _options.M : _options.M;
                var selected = SelectNeighbours(chunks, candidates, max);
                Publish(chunk, offset, layer, selected);
                foreach (var neighbour in selected)
                {
                    Connect(chunks, neighbour, id, layer, max);
                }
            }

            if (level > entry.Level)
            {
                Volatile.Write(ref _entry, new EntryPoint(id, level));
            }

            Volatile.Write(ref _count, id + 1);
            return id;
        }
    }

    /// <inheritdoc />
    public Neighbour[] Search(ReadOnlySpan<float> query, int k) => Search(query, k, _options.EfSearch);

    /// <summary>As <see cref="Search(ReadOnlySpan{float}, int)"/> with another search breadth (at least k is used).</summary>
    public Neighbour[] Search(ReadOnlySpan<float> query, int k, int efSearch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (query.Length != Dimensions)
        {
            throw new ArgumentException($"The query has {query.Length} dimensions, not {Dimensions}.", nameof(query));
        }

        var entry = Volatile.Read(ref _entry);
        var count = Volatile.Read(ref _count);
        var chunks = Volatile.Read(ref _chunks);
        if (entry is null)
        {
            return [];
        }

        var scratch = t_scratch ??= new SearchScratch();
        var codes = scratch.Query(_codeStride);
        var scale = QuantizeQuery(query, codes);
        var similarity = new QuantizedSimilarity(codes, scale, _codeStride, _rowBytes);
        var current = new Neighbour(entry.Id, similarity.To(chunks, entry.Id));
        for (var layer = entry.Level; layer > 0 && count >= _options.ScanBelow; layer--)
        {
            current = Greedy(chunks, count, similarity, current, layer);
        }

        var found = count < _options.ScanBelow
            ? Scan(chunks, count, similarity, Math.Max(efSearch, k), scratch)
            : SearchLayer(chunks, count, similarity, current, Math.Max(efSearch, k), 0, scratch);

        Rerank(chunks, query, found);
        return found.Length <= k ? found : found[..k];
    }

    /// <inheritdoc />
    public ReadOnlySpan<float> Vector(int id)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)id, (uint)Count, nameof(id));
        var chunk = Volatile.Read(ref _chunks)[id >> ChunkBits]!;
        return chunk.Vectors.AsSpan((id & ChunkMask) * Dimensions, Dimensions);
    }

    // Replaces the similarities of the candidates by their exact ones and sorts them, most similar first.
    private void Rerank(Chunk?[] chunks, ReadOnlySpan<float> query, Neighbour[] candidates)
    {
        for (var i = 0; i < candidates.Length; i++)
        {
            var id = candidates[i].Id;
            candidates[i] = new Neighbour(id, VectorMath.Dot(query, VectorOf(chunks, id)));
        }

        Array.Sort(candidates, static (a, b) => b.Similarity != a.Similarity ? b.Similarity.CompareTo(a.Similarity) : a.Id.CompareTo(b.Id));
    }

    // Stores round(v / s) with s = max |v_i| / 127 in codes (zero-padded) and returns s.
    private static float Quantize(ReadOnlySpan<float> vector, Span<sbyte> codes)
    {
        var max = MaxAbs(vector);
        codes.Clear();
        if (max == 0)
        {
            return 0;
        }

        var inverse = 127f / max;
        for (var i = 0; i < vector.Length; i++)
        {
            codes[i] = (sbyte)Math.Clamp(MathF.Round(vector[i] * inverse), -127, 127);
        }

        return max / 127f;
    }

    private static float QuantizeQuery(ReadOnlySpan<float> query, short[] codes)
    {
        var max = MaxAbs(query);
        Array.Clear(codes);
        if (max == 0 || !float.IsFinite(max))
        {
            return 0;
        }

        var inverse = QueryRange / max;
        for (var i = 0; i < query.Length; i++)
        {
            codes[i] = (short)Math.Clamp(MathF.Round(query[i] * inverse), -QueryRange, QueryRange);
        }

        return max / QueryRange;
    }

    private static float MaxAbs(ReadOnlySpan<float> vector)
    {
        var max = 0f;
        foreach (var x in vector)
        {
            max = MathF.Max(max, MathF.Abs(x));
        }

        return max;
    }

    // Σ q_i·v_i over codes whose length is a multiple of 32.
    private static int QuantizedDot(short[] query, sbyte[] codes, int start, int length)
    {
        if (Avx2.IsSupported)
        {
            ref var q = ref MemoryMarshal.GetArrayDataReference(query);
            ref var v = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(codes), start);
            Vector256<int> s0 = Vector256<int>.Zero, s1 = Vector256<int>.Zero;
            for (var i = 0; i < length; i += 32)
            {
                s0 += Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref q, (nuint)i), Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref v, (nuint)i)));
                s1 += Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref q, (nuint)(i + 16)), Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref v, (nuint)(i + 16))));
            }

            return Vector256.Sum(s0 + s1);
        }

        var total = 0;
        var span = codes.AsSpan(start, length);
        for (var i = 0; i < length; i++)
        {
            total += query[i] * span[i];
        }

        return total;
    }

    private static int[]? Links(Chunk?[] chunks, int id, int layer)
    {
        if ((uint)(id >> ChunkBits) >= (uint)chunks.Length || Volatile.Read(ref chunks[id >> ChunkBits]) is not { } chunk)
        {
            return null;
        }

        return layer == 0 ? Volatile.Read(ref chunk.Bottom[id & ChunkMask]) : Volatile.Read(ref chunk.Upper[id & ChunkMask]![layer - 1]);
    }

    private static void Publish(Chunk chunk, int offset, int layer, int[] links)
    {
        if (layer == 0)
        {
            Volatile.Write(ref chunk.Bottom[offset], links);
        }
        else
        {
            Volatile.Write(ref chunk.Upper[offset]![layer - 1], links);
        }
    }

    // Ids below count (read before the chunk directory) are complete nodes in chunks of the directory; a link may
    // name a vector added after the search began, which it skips.
    private static Neighbour Greedy<TSimilarity>(Chunk?[] chunks, int count, TSimilarity query, Neighbour current, int layer)
        where TSimilarity : struct, ISimilarity
    {
        bool changed;
        do
        {
            changed = false;
            foreach (var id in Links(chunks, current.Id, layer) ?? [])
            {
                if ((uint)id >= (uint)count)
                {
                    continue;
                }

                var similarity = query.To(chunks, id);
                if (similarity > current.Similarity)
                {
                    current = new Neighbour(id, similarity);
                    changed = true;
                }
            }
        }
        while (changed);

        return current;
    }

    // The paper's algorithm 2: best-first search keeping the ef most similar; most similar first.
    private static Neighbour[] SearchLayer<TSimilarity>(Chunk?[] chunks, int count, TSimilarity query, Neighbour entry, int ef, int layer, SearchScratch scratch)
        where TSimilarity : struct, ISimilarity
    {
        var epoch = scratch.Begin(chunks.Length << ChunkBits);
        var visited = scratch.Visited;
        var candidates = scratch.Candidates;
        var results = scratch.Results;
        visited[entry.Id] = epoch;
        candidates.Enqueue(entry.Id, -entry.Similarity);
        results.Enqueue(entry.Id, entry.Similarity);
        var worst = entry.Similarity;
        while (candidates.TryDequeue(out var id, out var negative))
        {
            if (-negative < worst && results.Count >= ef)
            {
                break;
            }

            var links = Links(chunks, id, layer) ?? [];
            var touched = 0;
            foreach (var next in links)
            {
                if ((uint)next < (uint)count && visited[next] != epoch)
                {
                    touched += query.Touch(chunks, next);
                }
            }

            scratch.Sink += touched;
            foreach (var next in links)
            {
                if ((uint)next >= (uint)count || visited[next] == epoch)
                {
                    continue;
                }

                visited[next] = epoch;
                var similarity = query.To(chunks, next);
                if (results.Count < ef || similarity > worst)
                {
                    candidates.Enqueue(next, -similarity);
                    results.Enqueue(next, similarity);
                    if (results.Count > ef)
                    {
                        results.Dequeue();
                    }

                    results.TryPeek(out _, out worst);
                }
            }
        }

        candidates.Clear();
        return Drain(results);
    }

    // Every vector below count, keeping the ef most similar; most similar first.
    private static Neighbour[] Scan(Chunk?[] chunks, int count, QuantizedSimilarity query, int ef, SearchScratch scratch)
    {
        var results = scratch.Results;
        results.Clear();
        var worst = float.NegativeInfinity;
        for (var id = 0; id < count; id++)
        {
            var similarity = query.To(chunks, id);
            if (results.Count < ef)
            {
                results.Enqueue(id, similarity);
                results.TryPeek(out _, out worst);
            }
            else if (similarity > worst)
            {
                results.DequeueEnqueue(id, similarity);
                results.TryPeek(out _, out worst);
            }
        }

        return Drain(results);
    }

    // The heap's entries, most similar first.
    private static Neighbour[] Drain(PriorityQueue<int, float> results)
    {
        var found = new Neighbour[results.Count];
        for (var i = found.Length - 1; i >= 0; i--)
        {
            results.TryDequeue(out var id, out var similarity);
            found[i] = new Neighbour(id, similarity);
        }

        return found;
    }

    private ReadOnlySpan<float> VectorOf(Chunk?[] chunks, int id) =>
        chunks[id >> ChunkBits]!.Vectors.AsSpan((id & ChunkMask) * Dimensions, Dimensions);

    // The paper's algorithm 4 without extending the candidates and without refilling pruned ones (hnswlib's choice).
    private int[] SelectNeighbours(Chunk?[] chunks, Neighbour[] candidates, int max)
    {
        if (candidates.Length <= max)
        {
            return Array.ConvertAll(candidates, c => c.Id);
        }

        var kept = new List<int>(max);
        foreach (var candidate in candidates)
        {
            var vector = VectorOf(chunks, candidate.Id);
            var diverse = true;
            foreach (var keptId in kept)
            {
                if (VectorMath.Dot(vector, VectorOf(chunks, keptId)) > candidate.Similarity)
                {
                    diverse = false;
                    break;
                }
            }

            if (diverse)
            {
                kept.Add(candidate.Id);
                if (kept.Count == max)
                {
                    break;
                }
            }
        }

        return [.. kept];
    }

    private void Connect(Chunk?[] chunks, int from, int to, int layer, int max)
    {
        var chunk = chunks[from >> ChunkBits]!;
        var offset = from & ChunkMask;
        var links = Links(chunks, from, layer)!;

        // Lists may grow half again past max before the heuristic prunes them back to max: pruning costs
        // O(max²) dot products, and doing it on every overflow made building 5× slower.
        if (links.Length < max + (max / 2))
        {
            Publish(chunk, offset, layer, [.. links, to]);
            return;
        }

        var vector = VectorOf(chunks, from);
        var candidates = new Neighbour[links.Length + 1];
        for (var i = 0; i < links.Length; i++)
        {
            candidates[i] = new Neighbour(links[i], VectorMath.Dot(vector, VectorOf(chunks, links[i])));
        }

        candidates[^1] = new Neighbour(to, VectorMath.Dot(vector, VectorOf(chunks, to)));
        Array.Sort(candidates, static (a, b) => b.Similarity.CompareTo(a.Similarity));
        Publish(chunk, offset, layer, SelectNeighbours(chunks, candidates, max));
    }

    private interface ISimilarity
    {
        // Similarity of the query to a reachable vector.
        float To(Chunk?[] chunks, int id);

        // Reads one value of each cache line of the vector. The loads are independent, so the processor fetches
        // the vectors of all neighbours of a node at once instead of one miss after another; the sum is discarded.
        int Touch(Chunk?[] chunks, int id);
    }

    // Approximate: int16 query codes against int8 vector codes (the graph walks of searching and building).
    private readonly struct QuantizedSimilarity(short[] codes, float scale, int stride, int rowBytes) : ISimilarity
    {
        public float To(Chunk?[] chunks, int id)
        {
            var chunk = chunks[id >> ChunkBits]!;
            var start = (id & ChunkMask) * rowBytes;
            var rowScale = Unsafe.ReadUnaligned<float>(ref Unsafe.As<sbyte, byte>(ref chunk.Codes[start + stride]));
            return QuantizedDot(codes, chunk.Codes, start, stride) * scale * rowScale;
        }

        public int Touch(Chunk?[] chunks, int id)
        {
            var codes = chunks[id >> ChunkBits]!.Codes;
            var start = (id & ChunkMask) * rowBytes;
            var sum = codes[start + rowBytes - 1];
            for (var at = 0; at < rowBytes; at += 64)
            {
                sum += codes[start + at];
            }

            return sum;
        }
    }

    // 1,024 nodes: their float vectors, int8 codes with scales, and link lists (replaced whole, never changed in place).
    private sealed class Chunk(int dimensions, int rowBytes)
    {
        public readonly float[] Vectors = new float[ChunkSize * dimensions];
        // Per node: the codes (zero-padded to a multiple of 32), then the scale (a float) in the last 32 bytes.
        public readonly sbyte[] Codes = new sbyte[ChunkSize * rowBytes];

        // Bottom-layer links; null until the node is complete.
        public readonly int[]?[] Bottom = new int[]?[ChunkSize];

        // Links of layers 1..level, at [layer − 1].
        public readonly int[][]?[] Upper = new int[][]?[ChunkSize];
    }

    private sealed record EntryPoint(int Id, int Level);

    // Per-thread buffers of a search: a visited mark per node (by epoch, so it is cleared only once every 255
    // searches; a byte per node keeps the marks of 100,000 nodes within the L2 cache), two heaps and the query's codes.
    private sealed class SearchScratch
    {
        private byte _epoch;
        private short[] _query = [];

        public byte[] Visited { get; private set; } = [];

        // Where SearchLayer puts the sum of the values it touched, so that the loads are not optimised away.
        public int Sink { get; set; }

        public PriorityQueue<int, float> Candidates { get; } = new();

        public PriorityQueue<int, float> Results { get; } = new();

        public short[] Query(int length)
        {
            if (_query.Length != length)
            {
                _query = new short[length];
            }

            return _query;
        }

        public byte Begin(int capacity)
        {
            Results.Clear();
            Candidates.Clear();
            if (Visited.Length < capacity)
            {
                Visited = new byte[capacity];
                _epoch = 0;
            }
            else if (_epoch == byte.MaxValue)
            {
                Array.Clear(Visited);
                _epoch = 0;
            }

            return ++_epoch;
        }
    }
}
