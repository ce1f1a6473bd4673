namespace Flare.Routing.Estimation.Index;

/// <summary>One search hit: the id the vector was added under and its cosine similarity to the query.</summary>
public readonly record struct Neighbour(int Id, float Similarity);

/// <summary>Nearest-neighbour search over unit vectors by cosine similarity (= dot product). Ids are dense:
/// the n-th vector added has id n − 1. Searches may run on any thread while one writer adds.</summary>
public interface IVectorIndex
{
    /// <summary>Length of the vectors.</summary>
    int Dimensions { get; }

    /// <summary>Vectors searchable now.</summary>
    int Count { get; }

    /// <summary>Adds a unit vector (copied) and returns its id. One writer at a time; searches may run meanwhile.</summary>
    int Add(ReadOnlySpan<float> vector);

    /// <summary>The (up to) <paramref name="k"/> most similar vectors, most similar first.</summary>
    Neighbour[] Search(ReadOnlySpan<float> query, int k);

    /// <summary>The vector added under <paramref name="id"/> (for rebuilding another index and for evaluation).</summary>
    ReadOnlySpan<float> Vector(int id);
}

/// <summary>Exact search: the dot product with every vector. The reference the approximate index is measured
/// against, and fast enough below a few thousand vectors.</summary>
public sealed class ExactIndex : IVectorIndex
{
    private readonly Lock _write = new();
    private float[][] _vectors = new float[16][];
    private int _count;

    /// <summary>An empty index of vectors of length <paramref name="dimensions"/>.</summary>
    public ExactIndex(int dimensions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        Dimensions = dimensions;
    }

    /// <inheritdoc />
    public int Dimensions { get; }

    /// <inheritdoc />
    public int Count => Volatile.Read(ref _count);

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
            if (id == _vectors.Length)
            {
                var grown = new float[_vectors.Length * 2][];
                Array.Copy(_vectors, grown, id);
                Volatile.Write(ref _vectors, grown);
            }

            _vectors[id] = vector.ToArray();
            Volatile.Write(ref _count, id + 1);
            return id;
        }
    }

    /// <inheritdoc />
    public Neighbour[] Search(ReadOnlySpan<float> query, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var count = Count;
        var vectors = Volatile.Read(ref _vectors);
        var best = new TopK(k);
        for (var id = 0; id < count; id++)
        {
            best.Offer(id, VectorMath.Dot(query, vectors[id]));
        }

        return best.ToSortedArray();
    }

    /// <inheritdoc />
    public ReadOnlySpan<float> Vector(int id)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)id, (uint)Count, nameof(id));
        return Volatile.Read(ref _vectors)[id];
    }
}

/// <summary>The k largest similarities seen, as a min-heap on similarity.</summary>
internal sealed class TopK(int k)
{
    private readonly PriorityQueue<int, float> _heap = new(k + 1);

    public int Count => _heap.Count;

    public float Worst => _heap.TryPeek(out _, out var s) ? s : float.NegativeInfinity;

    public void Offer(int id, float similarity)
    {
        if (_heap.Count < k)
        {
            _heap.Enqueue(id, similarity);
        }
        else if (similarity > Worst)
        {
            _heap.EnqueueDequeue(id, similarity);
        }
    }

    public Neighbour[] ToSortedArray()
    {
        var result = new Neighbour[_heap.Count];
        for (var i = result.Length - 1; i >= 0; i--)
        {
            _heap.TryDequeue(out var id, out var similarity);
            result[i] = new Neighbour(id, similarity);
        }

        return result;
    }
}
