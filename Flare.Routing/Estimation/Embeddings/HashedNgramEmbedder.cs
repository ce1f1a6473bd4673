using System.ComponentModel.DataAnnotations;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Flare.Routing.Estimation.Embeddings;

/// <summary>Options of <see cref="HashedNgramEmbedder"/>.</summary>
public sealed record HashedNgramEmbedderOptions
{
    /// <summary>Length of the vectors (default 256). More dimensions mean fewer hash collisions and slower
    /// search; 256 measured as well as 512 on the dcrouter split (docs/estimator.md).</summary>
    [Range(16, 4096)]
    public int Dimensions { get; init; } = 256;

    /// <summary>Smallest character n-gram, taken inside words with a boundary mark on each side (default 3).</summary>
    [Range(1, 10)]
    public int MinCharNgram { get; init; } = 3;

    /// <summary>Largest character n-gram (default 5).</summary>
    [Range(1, 10)]
    public int MaxCharNgram { get; init; } = 5;

    /// <summary>Weight of the character n-grams against the word unigrams and bigrams (default 0.5): a word
    /// yields several character n-grams, so at weight 1 they would outvote the words.</summary>
    [Range(0.0, 10.0)]
    public double CharNgramWeight { get; init; } = 0.5;

    /// <summary>Only the first this many characters of a prompt are embedded (default 4,000): the opening of a
    /// prompt says what kind of task it is, and the cost of an embedding stays bounded.</summary>
    [Range(16, 1_000_000)]
    public int MaxCharacters { get; init; } = 4000;

    /// <summary>The defaults above.</summary>
    public static HashedNgramEmbedderOptions Default { get; } = new();
}

/// <summary>
/// The built-in embedder: needs no model file and gives the same vector on every machine. Features are the
/// lower-cased word unigrams and bigrams and the character n-grams of each word (<c>" word "</c> with boundary
/// marks), each with weight <c>(1 + ln tf)·idf</c>, hashed into <see cref="Dimensions"/> buckets with a hashed
/// sign (the "hashing trick", Weinberger et al. 2009), then L2-normalised.
/// </summary>
/// <remarks>
/// Inverse document frequencies come from <see cref="Fit"/> over the history's prompts and are kept in a table of
/// 2^20 hashed features; they are frozen afterwards, so an embedding never changes under the index (rows added
/// later are embedded with the same table; a rebuild at start refits it). Without a fit every idf is 1.
/// FNV-1a hashing: stable across processes and versions, unlike <see cref="string.GetHashCode()"/>.
/// </remarks>
public sealed class HashedNgramEmbedder : IPromptEmbedder
{
    private const int IdfBits = 20;
    private const uint IdfMask = (1u << IdfBits) - 1;
    private const uint WordSeed = 2166136261u;
    private const uint BigramSeed = 0x9E3779B9u;
    private const uint CharSeed = 0x85EBCA6Bu;

    [ThreadStatic]
    private static Dictionary<uint, int>? t_counts;

    private readonly HashedNgramEmbedderOptions _options;
    private readonly float[]? _idf;

    private HashedNgramEmbedder(HashedNgramEmbedderOptions options, float[]? idf)
    {
        if (options.MinCharNgram > options.MaxCharNgram)
        {
            throw new ArgumentException($"MinCharNgram ({options.MinCharNgram}) is above MaxCharNgram ({options.MaxCharNgram}).", nameof(options));
        }

        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        _options = options;
        _idf = idf;
    }

    /// <summary>An embedder without idf weights (every feature weighs 1).</summary>
    public HashedNgramEmbedder(HashedNgramEmbedderOptions? options = null)
        : this(options ?? HashedNgramEmbedderOptions.Default, null)
    {
    }

    /// <inheritdoc />
    public string Name => EmbedderNames.HashedNgram;

    /// <inheritdoc />
    public int Dimensions => _options.Dimensions;

    /// <summary>The options in force.</summary>
    public HashedNgramEmbedderOptions Options => _options;

    /// <summary>Prompts the idf weights were fitted on (0 without a fit).</summary>
    public int FittedDocuments { get; private init; }

    /// <summary>An embedder whose idf weights, <c>ln((N + 1)/(df + 1)) + 1</c>, come from <paramref name="corpus"/>.</summary>
    public static HashedNgramEmbedder Fit(IEnumerable<string> corpus, HashedNgramEmbedderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        options ??= HashedNgramEmbedderOptions.Default;
        var unfitted = new HashedNgramEmbedder(options, null);
        var df = new int[1 << IdfBits];
        var documents = 0;
        foreach (var text in corpus)
        {
            documents++;
            foreach (var feature in unfitted.Features(text).Keys)
            {
                df[feature & IdfMask]++;
            }
        }

        var idf = new float[df.Length];
        for (var i = 0; i < idf.Length; i++)
        {
            idf[i] = (float)(Math.Log((documents + 1.0) / (df[i] + 1.0)) + 1.0);
        }

        return new HashedNgramEmbedder(options, idf) { FittedDocuments = documents };
    }

    /// <inheritdoc />
    public void Embed(string text, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (destination.Length != Dimensions)
        {
            throw new ArgumentException($"The destination holds {destination.Length} floats, not {Dimensions}.", nameof(destination));
        }

        destination.Clear();
        var counts = Features(text);
        var charWeight = (float)_options.CharNgramWeight;
        foreach (var (feature, count) in counts)
        {
            var weight = (1f + MathF.Log(count)) * (_idf?[feature & IdfMask] ?? 1f);
            if ((feature & 1) == 1)
            {
                weight *= charWeight;
            }

            // Bucket and sign from the high bits, which the idf table (low bits) does not use.
            var mixed = Mix(feature);
            var bucket = (int)((mixed >> 1) % (uint)destination.Length);
            destination[bucket] += (mixed & 1) == 0 ? weight : -weight;
        }

        VectorMath.Normalize(destination);
    }

    // Feature hashes with their counts. Bit 0 of a hash marks a character n-gram (for its weight).
    private Dictionary<uint, int> Features(string text)
    {
        var counts = t_counts ??= new Dictionary<uint, int>(1024);
        counts.Clear();
        var span = text.AsSpan(0, Math.Min(text.Length, _options.MaxCharacters));
        Span<char> word = stackalloc char[66];
        uint previous = 0;
        var hasPrevious = false;
        var i = 0;
        while (i < span.Length)
        {
            while (i < span.Length && !char.IsLetterOrDigit(span[i]))
            {
                i++;
            }

            if (i >= span.Length)
            {
                break;
            }

            // A word: at most 64 characters are kept (a longer run is a hash or base64, not language).
            var length = 0;
            word[length++] = ' ';
            while (i < span.Length && char.IsLetterOrDigit(span[i]))
            {
                if (length < 65)
                {
                    word[length++] = char.ToLowerInvariant(span[i]);
                }

                i++;
            }

            word[length++] = ' ';
            var letters = word[1..(length - 1)];
            var unigram = Hash(letters, WordSeed) & ~1u;
            Add(counts, unigram);
            if (hasPrevious)
            {
                Add(counts, (Mix(previous ^ BigramSeed) + unigram * 31) & ~1u);
            }

            previous = unigram;
            hasPrevious = true;
            var marked = word[..length];
            for (var n = _options.MinCharNgram; n <= _options.MaxCharNgram && n <= marked.Length; n++)
            {
                for (var start = 0; start + n <= marked.Length; start++)
                {
                    Add(counts, Hash(marked.Slice(start, n), CharSeed + (uint)n) | 1u);
                }
            }
        }

        return counts;
    }

    private static void Add(Dictionary<uint, int> counts, uint feature)
    {
        ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(counts, feature, out _);
        count++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Hash(ReadOnlySpan<char> chars, uint seed)
    {
        var hash = seed;
        foreach (var c in chars)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
    }

    // murmur3's finalizer: spreads FNV's weak high bits.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Mix(uint h)
    {
        h ^= h >> 16;
        h *= 0x85EBCA6Bu;
        h ^= h >> 13;
        h *= 0xC2B2AE35u;
        h ^= h >> 16;
        return h;
    }
}
