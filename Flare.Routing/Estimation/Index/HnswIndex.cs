using System.ComponentModel.DataAnnotations;

namespace Flare.Routing.Estimation.Index;

/// <summary>Options of <see cref="HnswIndex"/>.</summary>
public sealed record HnswOptions
{
    /// <summary>Links kept per vector on the upper layers; twice as many on the bottom layer (default 16, the
    /// HNSW paper's and hnswlib's usual value).</summary>
    [Range(2, 128)]
    public int M { get; init; } = 16;

    /// <summary>Candidates considered when linking a new vector (default 100). Higher builds a better graph,
    /// more slowly.</summary>
    [Range(1, 4096)]
    public int EfConstruction { get; init; } = 100;

    /// <summary>Candidates kept while searching (default 128; a search for k neighbours keeps at least k).
    /// Hashed n-gram vectors of prompts are high-dimensional in the intrinsic sense, so the search needs a wider
    /// beam than on image features: 64 gave recall@10 ≈ 0.92 on the dcrouter split, 128 ≈ 0.98 (docs/benchmarks.md).</summary>
    [Range(1, 4096)]
    public int EfSearch { get; init; } = 128;

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
/// </remarks>
public sealed class HnswIndex : IVectorIndex
{
    [ThreadStatic]
    private static SearchScratch? t_scratch;

    private readonly HnswOptions _options;
    private readonly Lock _write = new();
    private readonly Random _random;
    private readonly double _levelMultiplier;
    private Node?[] _nodes = new Node?[1024];
    private EntryPoint? _entry;
    private int _count;

    /// <summary>An empty index of vectors of length <paramref name="dimensions"/>.</summary>
    public HnswIndex(int dimensions, HnswOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        _options = options ?? HnswOptions.Default;
        Validator.ValidateObject(_options, new ValidationContext(_options), validateAllProperties: true);
        Dimensions = dimensions;
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
            var nodes = _nodes;
            if (id == nodes.Length)
            {
                var grown = new Node?[nodes.Length * 2];
                Array.Copy(nodes, grown, id);
                nodes = grown;
                Volatile.Write(ref _nodes, grown);
            }

            var level = (int)(-Math.Log(1 - _random.NextDouble()) * _levelMultiplier);
            var node = new Node(vector.ToArray(), level);
            Volatile.Write(ref nodes[id], node);
            var entry = _entry;
            if (entry is null)
            {
                Volatile.Write(ref _entry, new EntryPoint(id, level));
                Volatile.Write(ref _count, id + 1);
                return id;
            }

            var scratch = t_scratch ??= new SearchScratch();
            var current = new Neighbour(entry.Id, VectorMath.Dot(vector, nodes[entry.Id]!.Vector));
            for (var layer = entry.Level; layer > level; layer--)
            {
                current = Greedy(nodes, vector, current, layer);
            }

            for (var layer = Math.Min(level, entry.Level); layer >= 0; layer--)
            {
                var candidates = SearchLayer(nodes, vector, current, _options.EfConstruction, layer, scratch);
                var max = layer == 0 ? 2 * _options.M : _options.M;
                var selected = SelectNeighbours(nodes, candidates, max);
                Volatile.Write(ref node.Links[layer], selected);
                foreach (var neighbour in selected)
                {
                    Connect(nodes, neighbour, id, layer, max);
                }

                current = candidates[0];
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
        var nodes = Volatile.Read(ref _nodes);
        if (entry is null)
        {
            return [];
        }

        var current = new Neighbour(entry.Id, VectorMath.Dot(query, nodes[entry.Id]!.Vector));
        for (var layer = entry.Level; layer > 0; layer--)
        {
            current = Greedy(nodes, query, current, layer);
        }

        var found = SearchLayer(nodes, query, current, Math.Max(efSearch, k), 0, t_scratch ??= new SearchScratch());
        return found.Length <= k ? found : found[..k];
    }

    /// <inheritdoc />
    public ReadOnlySpan<float> Vector(int id)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)id, (uint)Count, nameof(id));
        return Volatile.Read(ref _nodes)[id]!.Vector;
    }

    private static Neighbour Greedy(Node?[] nodes, ReadOnlySpan<float> query, Neighbour current, int layer)
    {
        bool changed;
        do
        {
            changed = false;
            foreach (var id in Volatile.Read(ref nodes[current.Id]!.Links[layer]))
            {
                if (id >= nodes.Length || Volatile.Read(ref nodes[id]) is not { } node)
                {
                    continue;
                }

                var similarity = VectorMath.Dot(query, node.Vector);
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
    private static Neighbour[] SearchLayer(Node?[] nodes, ReadOnlySpan<float> query, Neighbour entry, int ef, int layer, SearchScratch scratch)
    {
        var epoch = scratch.Begin(nodes.Length);
        var visited = scratch.Visited;
        var candidates = scratch.Candidates;
        var results = scratch.Results;
        visited[entry.Id] = epoch;
        candidates.Enqueue(entry.Id, -entry.Similarity);
        results.Enqueue(entry.Id, entry.Similarity);
        while (candidates.TryDequeue(out var id, out var negative))
        {
            results.TryPeek(out _, out var worst);
            if (-negative < worst && results.Count >= ef)
            {
                break;
            }

            foreach (var next in Volatile.Read(ref nodes[id]!.Links[layer]))
            {
                if (next >= nodes.Length || visited[next] == epoch || Volatile.Read(ref nodes[next]) is not { } node)
                {
                    continue;
                }

                visited[next] = epoch;
                var similarity = VectorMath.Dot(query, node.Vector);
                results.TryPeek(out _, out worst);
                if (results.Count < ef || similarity > worst)
                {
                    candidates.Enqueue(next, -similarity);
                    results.Enqueue(next, similarity);
                    if (results.Count > ef)
                    {
                        results.Dequeue();
                    }
                }
            }
        }

        candidates.Clear();
        var found = new Neighbour[results.Count];
        for (var i = found.Length - 1; i >= 0; i--)
        {
            results.TryDequeue(out var id, out var similarity);
            found[i] = new Neighbour(id, similarity);
        }

        return found;
    }

    // The paper's algorithm 4 without extending the candidates and without refilling pruned ones (hnswlib's choice).
    private static int[] SelectNeighbours(Node?[] nodes, Neighbour[] candidates, int max)
    {
        if (candidates.Length <= max)
        {
            return Array.ConvertAll(candidates, c => c.Id);
        }

        var kept = new List<int>(max);
        foreach (var candidate in candidates)
        {
            var vector = nodes[candidate.Id]!.Vector;
            var diverse = true;
            foreach (var keptId in kept)
            {
                if (VectorMath.Dot(vector, nodes[keptId]!.Vector) > candidate.Similarity)
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

    private static void Connect(Node?[] nodes, int from, int to, int layer, int max)
    {
        var node = nodes[from]!;
        var links = node.Links[layer];

        // Lists may grow half again past max before the heuristic prunes them back to max: pruning costs
        // O(max²) dot products, and doing it on every overflow made building 5× slower.
        if (links.Length < max + (max / 2))
        {
            Volatile.Write(ref node.Links[layer], [.. links, to]);
            return;
        }

        var candidates = new Neighbour[links.Length + 1];
        for (var i = 0; i < links.Length; i++)
        {
            candidates[i] = new Neighbour(links[i], VectorMath.Dot(node.Vector, nodes[links[i]]!.Vector));
        }

        candidates[^1] = new Neighbour(to, VectorMath.Dot(node.Vector, nodes[to]!.Vector));
        Array.Sort(candidates, static (a, b) => b.Similarity.CompareTo(a.Similarity));
        Volatile.Write(ref node.Links[layer], SelectNeighbours(nodes, candidates, max));
    }

    private sealed class Node
    {
        public Node(float[] vector, int level)
        {
            Vector = vector;
            Links = new int[level + 1][];
            for (var i = 0; i <= level; i++)
            {
                Links[i] = [];
            }
        }

        public float[] Vector { get; }

        // Links[layer] is replaced whole, never changed in place.
        public int[][] Links { get; }
    }

    private sealed record EntryPoint(int Id, int Level);

    // Per-thread buffers of a search: a visited mark per node (by epoch, so it is never cleared) and two heaps.
    private sealed class SearchScratch
    {
        private int _epoch;

        public int[] Visited { get; private set; } = [];

        public PriorityQueue<int, float> Candidates { get; } = new();

        public PriorityQueue<int, float> Results { get; } = new();

        public int Begin(int capacity)
        {
            Results.Clear();
            Candidates.Clear();
            if (Visited.Length < capacity || _epoch == int.MaxValue)
            {
                Visited = new int[capacity];
                _epoch = 0;
            }

            return ++_epoch;
        }
    }
}
